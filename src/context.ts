import type { Kysely } from "kysely";
import type { Config } from "./config.ts";
import type { Dialect } from "../db/connect.ts";
import type { Database } from "../db/schema.ts";

/** What request handlers and CLI commands are given: the database and the configuration. */
export interface AppContext {
  db: Kysely<Database>;
  dialect: Dialect;
  config: Config;
}
