// A file server on loopback standing in for another server's media host (a
// Mastodon CDN, Lemmy's pict-rs): it serves what a test puts at a path, with
// the content type the test chooses, and logs every request it gets, so a
// test can prove a fetch did or did not happen. It can also misbehave: an
// endless body, or a body that never comes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";

export type Served =
  | { kind: "bytes"; body: Uint8Array; contentType: string }
  /** Sends image bytes forever (until the client hangs up). */
  | { kind: "endless"; contentType: string }
  /** Sends headers, then nothing. */
  | { kind: "stall"; contentType: string };

export class ImageHost {
  readonly origin: string;
  readonly host: string;
  /** Every request, in order: path and the `Origin`/`Referer` it carried. */
  readonly requests: { path: string; referer: string | null }[] = [];
  /** Bytes sent by endless responses (to show they were cut). */
  endlessBytesSent = 0;
  /** Endless responses the client hung up on. */
  endlessClosed = 0;
  readonly #files = new Map<string, Served>();
  readonly #server: Server;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.origin = `http://127.0.0.1:${port}`;
    this.host = `127.0.0.1:${port}`;
  }

  static async start(): Promise<ImageHost> {
    let host: ImageHost | undefined;
    const server = createServer((req, res) => host?.handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = new ImageHost(server, (server.address() as AddressInfo).port);
    return host;
  }

  /** Serves `served` at `path`; returns its URL. */
  put(path: string, served: Served): string {
    this.#files.set(path, served);
    return `${this.origin}${path}`;
  }

  /** Requests made for `url` (one of ours). */
  hits(url: string): number {
    const path = new URL(url).pathname;
    return this.requests.filter((r) => r.path === path).length;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", this.origin).pathname;
    this.requests.push({ path, referer: req.headers.referer ?? null });
    const served = this.#files.get(path);
    if (!served) return void res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    if (served.kind === "bytes")
      return void res.writeHead(200, { "content-type": served.contentType }).end(Buffer.from(served.body));
    res.writeHead(200, { "content-type": served.contentType });
    if (served.kind === "stall") return;
    // A PNG signature, then noise without end.
    const chunk = Buffer.alloc(64 * 1024, 7);
    res.write(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    res.once("close", () => this.endlessClosed++);
    const pump = () => {
      for (let more = true; more && !res.destroyed; ) {
        more = res.write(chunk);
        this.endlessBytesSent += chunk.length;
      }
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A real photo-like JPEG of `width`×`height` (a gradient), as a camera would send. */
export async function jpeg(width = 64, height = 48): Promise<Uint8Array> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels.set([(x * 255) / width, (y * 255) / height, 128], (y * width + x) * 3);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
}
