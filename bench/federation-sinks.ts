// The fan-out benchmark's remote servers, in a process of their own so their
// CPU is not counted as Kindred's: `count` plain node:http servers on
// loopback, each its own host, answering inbox POSTs with 202 (every second
// one after `latencyMs`). Driven over IPC: "counts" answers how many POSTs
// each sink received per activity type.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

const count = Number(process.argv[2] ?? 1000);
const latencyMs = Number(process.argv[3] ?? 300);
const received: Map<string, number>[] = [];
const servers: Server[] = [];

for (let i = 0; i < count; i++) {
  const tally = new Map<string, number>();
  received.push(tally);
  const slow = i % 2 === 1;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let type = "?";
      try {
        type = String(JSON.parse(Buffer.concat(chunks).toString("utf8")).type);
      } catch {}
      const answer = () => {
        tally.set(type, (tally.get(type) ?? 0) + 1);
        res.writeHead(202).end();
      };
      if (slow) setTimeout(answer, latencyMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
}

process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "counts") process.send?.({ counts: received.map((m) => Object.fromEntries(m)) });
  if (message.cmd === "reset") for (const m of received) m.clear();
  if (message.cmd === "stop") {
    for (const s of servers) s.closeAllConnections();
    process.exit(0);
  }
});
process.send?.({ ports: servers.map((s) => (s.address() as AddressInfo).port) });
