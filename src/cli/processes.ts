// `kindred web` and `kindred worker`: one role each (src/roles.ts), for
// deployments of several processes on one PostgreSQL, under a service
// manager. They run until SIGTERM or SIGINT, then stop gracefully (requests
// and handlers under way finish) and exit 0; a second signal ends them at
// once. `npm start` runs both roles in one process.
import { setUpLogging } from "../logging.ts";
import { type Roles, startRoles } from "../roles.ts";
import { type Command, command, type Invocation } from "./args.ts";

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

export const processes: Command[] = [
  command({
    name: "web",
    args: "",
    summary: "Serve HTTP on PORT without working the queues (run `kindred worker` too); until SIGTERM.",
    positionals: [],
    options: {},
    run: (inv) => runRoles(inv, { web: true, worker: false }),
  }),
  command({
    name: "worker",
    args: "",
    summary: "Work the queues (activities, deliveries, jobs) without serving HTTP; until SIGTERM.",
    positionals: [],
    options: {},
    run: (inv) => runRoles(inv, { web: false, worker: true }),
  }),
];

async function runRoles({ rt, federate, io }: Invocation, roles: Roles): Promise<void> {
  if (!federate) throw new Error("this entry point cannot serve: it has no federation to plug in");
  await setUpLogging(rt.config.logLevel);
  const running = await startRoles(rt, federate(rt), roles);
  const what = roles.web ? `serving ${rt.config.origin} on port ${running.port}` : "working the queues";
  io.stdout.write(`kindred ${roles.web ? "web" : "worker"}: ${what}; SIGTERM stops it\n`);
  const stop = stopSignal();
  try {
    // The workers only end by themselves by failing: then this rejects, and the exit code says so.
    await Promise.race([stop.received, running.workersDone]);
  } finally {
    stop.release();
    await running.close();
  }
}

/** The first SIGINT or SIGTERM; after it (or `release`), the default action is back, so a second one kills. */
function stopSignal(): { received: Promise<void>; release(): void } {
  let stop = () => {};
  const received = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const release = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = () => {
    release();
    stop();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return { received, release };
}
