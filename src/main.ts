import { loadConfigOrExit } from "./config.ts";
import { setUpLogging } from "./logging.ts";
import { exitIfRefused } from "./runtime.ts";
import { startInstance } from "./server.ts";

const config = loadConfigOrExit();
await setUpLogging(config.logLevel);
const instance = await startInstance(config).catch(exitIfRefused);
console.log(`Kindred is running at ${config.origin} (port ${instance.port})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    instance.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
