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
  const policy = new DomainPolicy(handle.db, hostOf(config.origin));
  try {
    if (options.migrate ?? true) {
      await migrateToLatest(handle.db);
      await policy.start();
    }
  } catch (error) {
    // A process that goes on (a test, the CLI run in process) must not keep a pool to a database it could not use.
    policy.stop();
    await handle.close().catch(() => undefined);
    throw error;
  }
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
