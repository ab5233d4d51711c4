// Every outgoing request has a total deadline (federation/outbound-http.ts):
// undici's own timeouts only bound idle gaps, so a server that trickles a byte
// at a time, or answers after a minute, would otherwise hold a delivery slot
// for as long as it likes. Real HTTP on loopback, undici's real fetch.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  boundOutgoingRequests,
  OUTBOUND_BOUNDS,
  OutboundDeadlineError,
  totalDeadline,
} from "../../federation/outbound-http.ts";

describe("the total deadline of an outgoing request", () => {
  let origin: string;
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    if (req.url === "/ok") return void res.end("fine");
    if (req.url === "/huge") return void res.end(Buffer.alloc(OUTBOUND_BOUNDS.maxResponseBytes + 1024, 120));
    if (req.url === "/late") return void setTimeout(() => res.end("too late"), 60_000).unref();
    // An endless body, a byte every 50 ms: no idle timeout ever fires.
    res.writeHead(200, { "content-type": "text/plain" });
    const timer = setInterval(() => res.write("x"), 50);
    res.on("close", () => clearInterval(timer));
  });
  // Idle timeouts far above the deadline: only the deadline can cut these requests.
  const dispatcher = new Agent({ headersTimeout: 60_000, bodyTimeout: 60_000 }).compose(totalDeadline(800));

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dispatcher.close();
  });

  const cause = async (request: Promise<unknown>) => {
    try {
      await request;
      return undefined;
    } catch (error) {
      return (error as Error).cause ?? error;
    }
  };

  it("lets a request that finishes in time through", async () => {
    const res = await undiciFetch(`${origin}/ok`, { dispatcher });
    expect(await res.text()).toBe("fine");
  });

  it("cuts a server that never sends its headers", async () => {
    expect(await cause(undiciFetch(`${origin}/late`, { dispatcher }))).toBeInstanceOf(OutboundDeadlineError);
  });

  it("cuts an endless body in the middle, after part of it was read", async () => {
    const res = await undiciFetch(`${origin}/endless`, { dispatcher });
    expect(res.status).toBe(200);
    expect(await cause(res.text())).toBeInstanceOf(OutboundDeadlineError);
    // Our side closed the connection: the server is no longer streaming to anyone.
    await expect.poll(() => open.size).toBe(0);
  });

  it("bounds every request of the process (the global fetch Fedify sends with): body size and total time", async () => {
    boundOutgoingRequests({ allowPrivateAddress: true, totalTimeoutMs: 2_000 });
    const huge = await fetch(`${origin}/huge`);
    await expect(huge.arrayBuffer()).rejects.toThrow();
    const endless = await fetch(`${origin}/endless`);
    expect(await cause(endless.text())).toBeInstanceOf(OutboundDeadlineError);
    expect(await (await fetch(`${origin}/ok`)).text()).toBe("fine");
  });
});
