// A real SMTP server on loopback (the `smtp-server` package), as a mail relay
// of the instance's would be: no TLS, no login required. It keeps what it
// receives, and can refuse chosen recipients or stop and start again on the
// same port, to test what a refusing or absent server does to the sender.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Header fields, lower-case names, folded lines joined. */
  headers: Map<string, string>;
  /** The text/plain part, decoded. */
  text: string;
  /** The text/html part, decoded ("" when absent). */
  html: string;
  raw: string;
}

export interface TestSmtpServer {
  port: number;
  /** smtp://127.0.0.1:<port> */
  url: string;
  received: ReceivedMail[];
  /** Recipients answered with a permanent 550 at RCPT TO. */
  refused: Set<string>;
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const refused = new Set<string>();
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (refused.has(address.address.toLowerCase())) {
          const error = Object.assign(new Error("mailbox unavailable"), { responseCode: 550 });
          callback(error);
          return;
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          received.push({ ...parseMessage(raw), from, to: session.envelope.rcptTo.map((r) => r.address), raw });
          callback();
        });
      },
    });
  let server = make();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    refused,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async start() {
      server = make();
      await listen(port);
    },
  };
}

function parseMessage(raw: string): Pick<ReceivedMail, "headers" | "text" | "html"> {
  const { headers, body } = splitEntity(raw);
  const parts = { text: "", html: "" };
  const visit = (h: Map<string, string>, b: string) => {
    const type = h.get("content-type") ?? "text/plain";
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary) {
      for (const chunk of b.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith("--")) break;
        const part = splitEntity(chunk.replace(/^\r?\n/, ""));
        visit(part.headers, part.body);
      }
      return;
    }
    const decoded = decode(b, h.get("content-transfer-encoding") ?? "7bit");
    if (/^text\/html/i.test(type)) parts.html = decoded;
    else if (/^text\/plain/i.test(type)) parts.text = decoded;
  };
  visit(headers, body);
  return { headers, ...parts };
}

function splitEntity(raw: string) {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end < 0 ? raw : raw.slice(0, end);
  const body = end < 0 ? "" : raw.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decode(body: string, encoding: string): string {
  if (/^base64$/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (/^quoted-printable$/i.test(encoding)) {
    // A quoted-printable body is ASCII: each =XX is one byte of the UTF-8 text.
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}
