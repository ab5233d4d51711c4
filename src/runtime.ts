import { join } from "node:path";
import { openDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { DomainError } from "./errors.ts";
import { checkOrigin, claimOrigin } from "./instance/settings.ts";
import { FileMediaStore } from "./media/store.ts";
import { DomainPolicy } from "./policy/matcher.ts";
import { hostOf } from "./urls.ts";

export interface Runtime extends AppContext {
  close(): Promise<void>;
}

/**
 * Opens the configured database and brings its schema up to date. Server,
 * worker and CLI all come through here, so this is where a database created
 * under another ORIGIN is refused: before the migration or anything else
 * writes to it. A new database (or one from before origins were stored)
 * takes the ORIGIN it is first opened with. `migrate: false` (the `migrate`
 * command) only checks: it mints no IRIs, and must not claim a database for
 * a default ORIGIN before the server first starts.
 */
export async function openRuntime(config: Config, options: { migrate?: boolean } = {}): Promise<Runtime> {
  const handle = await openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize });
  const policy = new DomainPolicy(handle.db, hostOf(config.origin));
  try {
    await checkOrigin(handle.db, config.origin);
    if (options.migrate ?? true) {
      await migrateToLatest(handle.db);
      await claimOrigin(handle.db, config.origin);
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
    media: new FileMediaStore(join(config.dataDir, "media")),
    close: async () => {
      policy.stop();
      await handle.close();
    },
  };
}

/**
 * For the server and worker entry points: a database they must not use (another
 * ORIGIN's) is one `kindred: …` line and exit code 1, as a bad configuration is.
 */
export function exitIfRefused(error: unknown): never {
  if (!(error instanceof DomainError)) throw error;
  console.error(`kindred: ${error.message}`);
  process.exit(1);
}
