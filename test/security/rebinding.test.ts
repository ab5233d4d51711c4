// DNS rebinding: a host name checked as public before a fetch may resolve to
// a private address when the connection is made. With private addresses not
// allowed, every connection resolves through publicOnlyLookup, which refuses
// a name with any private address, as the connection is made.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicOnlyConnector, publicOnlyLookup } from "../../federation/outbound-http.ts";

describe("connections resolve only to public addresses", () => {
  let port: number;
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end("private");
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const resolve = (all: boolean) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((done) =>
      publicOnlyLookup("localhost", { all }, (error, address) => done({ error, address })),
    );

  it("refuses a name that resolves to loopback, whether one address or all are asked for", async () => {
    for (const all of [false, true]) {
      const { error } = await resolve(all);
      expect(error?.code).toBe("EPRIVATEADDR");
    }
  });

  it("a connection through it to a name on our own machine never reaches the server", async () => {
    const agent = new Agent({ connect: { lookup: publicOnlyLookup } });
    try {
      const error = await undiciFetch(`http://localhost:${port}/`, { dispatcher: agent }).then(
        () => null,
        (e: unknown) => e as Error & { cause?: { code?: string } },
      );
      expect(error?.cause?.code).toBe("EPRIVATEADDR");
      expect(hits).toBe(0);
      // The same server, reached without the check, answers: the refusal is the lookup's.
      expect(await (await undiciFetch(`http://localhost:${port}/`)).text()).toBe("private");
    } finally {
      await agent.close();
    }
  });

  it("an address written as such, loopback or IPv4-mapped, is refused too, on every hop", async () => {
    const agent = new Agent({ connect: publicOnlyConnector(10_000) });
    try {
      for (const host of ["127.0.0.1", "[::ffff:127.0.0.1]", "localhost"]) {
        const error = await undiciFetch(`http://${host}:${port}/`, { dispatcher: agent }).then(
          () => null,
          (e: unknown) => e as Error & { cause?: { code?: string } },
        );
        expect(error?.cause?.code, host).toBe("EPRIVATEADDR");
      }
      expect(hits).toBe(1); // only the unchecked request of the test above
    } finally {
      await agent.close();
    }
  });
});
