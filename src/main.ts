import { ConfigError, loadConfig } from "./config.ts";
import { setUpLogging } from "./logging.ts";
import { startInstance } from "./server.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`kindred: ${error.message}`);
  process.exit(1);
}
await setUpLogging(config.logLevel);
const instance = await startInstance(config);
console.log(`Kindred is running at ${config.origin} (port ${instance.port})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    instance.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
