// Reading a password from standard input (`user create --password-stdin`).
import type { Io } from "./args.ts";

/**
 * Reads the first line of `stdin` (without its line ending) and stops there.
 * The stream belongs to the caller: it is left paused, not destroyed, with
 * what followed the line put back.
 */
export function readFirstLine(stdin: Io["stdin"]): Promise<string> {
  if ((stdin as { readableEnded?: boolean }).readableEnded) return Promise.resolve("");
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.off("error", onError);
      stdin.pause();
      // A paused pipe or terminal still holds the event loop open until its writer closes it.
      (stdin as { unref?: () => void }).unref?.();
    };
    const finish = (line: Buffer) => {
      cleanup();
      resolve(line.toString("utf8").replace(/\r$/, ""));
    };
    const onData = (chunk: string | Buffer) => {
      const start = buffer.length;
      buffer = Buffer.concat([buffer, typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk]);
      const newline = buffer.indexOf(0x0a, start);
      if (newline < 0) return;
      const rest = buffer.subarray(newline + 1);
      finish(buffer.subarray(0, newline));
      if (rest.length > 0) stdin.unshift(rest);
    };
    const onEnd = () => finish(buffer);
    const onError = (error: unknown) => {
      cleanup();
      reject(error);
    };
    stdin.on("data", onData);
    stdin.on("end", onEnd);
    stdin.on("error", onError);
    stdin.resume();
  });
}
