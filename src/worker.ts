// A delivery worker without HTTP, for multi-process deployments on one
// PostgreSQL: run web nodes with WORKER=false and one or more of these.
import { buildFederation } from "../federation/builder.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { logger, setUpLogging } from "./logging.ts";
import { openRuntime } from "./runtime.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`kindred: ${error.message}`);
  process.exit(1);
}
await setUpLogging(config.logLevel);
const runtime = await openRuntime(config);
const { runWorkers } = buildFederation(runtime);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
logger("worker").info("delivery worker started");
await runWorkers(stop.signal);
await runtime.close();
