import { openDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { DomainPolicy } from "./policy/matcher.ts";
import { hostOf } from "./urls.ts";

export interface Runtime extends AppContext {
  close(): Promise<void>;
}

/** Opens the configured database and brings its schema up to date. */
export async function openRuntime(config: Config, options: { migrate?: boolean } = {}): Promise<Runtime> {
  const handle = await openDatabase(config.databaseUrl);
  if (options.migrate ?? true) await migrateToLatest(handle.db);
  const policy = new DomainPolicy(handle.db, hostOf(config.origin));
  if (options.migrate ?? true) await policy.start();
  return {
    db: handle.db,
    dialect: handle.dialect,
    config,
    policy,
    close: async () => {
      policy.stop();
      await handle.close();
    },
  };
}
