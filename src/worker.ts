// A delivery and job worker without HTTP, for multi-process deployments on one
// PostgreSQL: run web nodes with WORKER=false and one or more of these.
import { attachFederation } from "../federation/attach.ts";
import { runJobs } from "./background.ts";
import { loadConfigOrExit } from "./config.ts";
import { logger, setUpLogging } from "./logging.ts";
import { exitIfRefused, openRuntime } from "./runtime.ts";

const config = loadConfigOrExit();
await setUpLogging(config.logLevel);
const runtime = await openRuntime(config).catch(exitIfRefused);
const { runWorkers } = attachFederation(runtime);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
logger("worker").info("delivery worker started");
await Promise.all([runWorkers(stop.signal), runJobs(runtime, stop.signal)]);
await runtime.close();
