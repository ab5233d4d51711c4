// Browser tests drive Debian's own Chromium through playwright-core. Nothing is
// ever downloaded: playwright-core ships no browser, and the machines that run
// these tests have no internet access anyway.
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Headless Chromium that stays quiet offline: without the background-networking
 * flags it keeps trying to reach Google services and logs every refused
 * connection.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
