// `npm run worker`: the worker role alone (src/roles.ts), as `kindred worker`
// runs it, for deployments of several processes on one PostgreSQL: web
// processes with WORKER=false (or `kindred web`) and one or more of these.
import { attachFederation } from "../federation/attach.ts";
import { loadConfigOrExit } from "./config.ts";
import { setUpLogging } from "./logging.ts";
import { startRoles } from "./roles.ts";
import { exitIfRefused, openRuntime } from "./runtime.ts";

const config = loadConfigOrExit();
await setUpLogging(config.logLevel);
const runtime = await openRuntime(config).catch(exitIfRefused);
const roles = await startRoles(runtime, attachFederation(runtime), { web: false, worker: true });
const stopped = new Promise<void>((resolve) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
});
// The workers only end by themselves on a failure (logged by src/roles.ts): exit 1, so a supervisor restarts us.
const failed = await Promise.race([
  stopped.then(() => false),
  roles.workersDone.then(
    () => false,
    () => true,
  ),
]);
await roles.close();
await runtime.close();
process.exit(failed ? 1 : 0);
