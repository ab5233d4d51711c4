import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, getLogger, type LogLevel } from "@logtape/logtape";

/**
 * Structured logs through LogTape, the library Fedify logs with. Categories:
 * ["kindred", …] for ours, ["fedify", …] for Fedify's. Never log post text,
 * emails, passwords or tokens: log ids and IRIs instead.
 */
export async function setUpLogging(level: LogLevel): Promise<void> {
  await configure({
    reset: true,
    // Fedify attaches request ids through context-local storage.
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: ["kindred"], lowestLevel: level, sinks: ["console"] },
      {
        category: ["fedify"],
        lowestLevel: level === "debug" || level === "trace" ? level : "warning",
        sinks: ["console"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

export const logger = (...category: string[]) => getLogger(["kindred", ...category]);
