// The federation lines of `npm run bench` (issue 14): inbound stored/s beside
// the lean reference, fan-out to 1,000 servers beside a sign + POST loop.
// Each figure is printed with its reference from the same run and the ratio.
import type { Dialect } from "../db/connect.ts";
import { fanoutBench } from "./federation-fanout.ts";
import { inboundBench } from "./federation-inbound.ts";

const fmt = (n: number, d = 1) => n.toFixed(d);
const pct = (a: number, b: number) => `${fmt((a / b) * 100, 0)} %`;

export async function federationLines(dialect: Dialect, postgresUrl: string): Promise<string[]> {
  const lines = [`\n[federation, ${dialect}]`];
  const i = await inboundBench(dialect, postgresUrl);
  lines.push(
    `  inbound: ${i.sent} signed Creates from 200 actors (keys warm), 16 at a time: ` +
      `${fmt(i.storedPerS, 0)} stored/s (target ≥ 1,000), 202 in p50 ${fmt(i.p50Ms)} ms / p99 ${fmt(i.p99Ms)} ms, ` +
      `${fmt(i.cpuMsPerActivity, 2)} ms CPU each`,
    `    lean reference (verify + JSON.parse + insert, same bodies): ${fmt(i.leanPerS, 0)}/s, ` +
      `${fmt(i.leanCpuMsPerActivity, 3)} ms CPU each; Kindred at ${pct(i.storedPerS, i.leanPerS)} (target ≥ 25 %)`,
  );
  const f = await fanoutBench(dialect, postgresUrl);
  const [same, wide] = f.reference;
  lines.push(
    `  fan-out: 1 thread to ${f.servers} servers (half 300 ms away): all reached in ${fmt(f.seconds, 2)} s ` +
      `(target < 10), requests per shared inbox ${f.minPerInbox}–${f.maxPerInbox} (expected ${f.expectedPerInbox}), ` +
      `${fmt(f.deliveriesPerS, 0)} deliveries/s, ${fmt(f.cpuMsPerDelivery, 2)} ms CPU each ` +
      `(concurrency ${f.concurrency})`,
  );
  for (const r of [same, wide].filter((x) => x !== undefined))
    lines.push(
      `    sign + POST reference at ${r.concurrency}: ${fmt(r.seconds, 2)} s, ${fmt(r.deliveriesPerS, 0)}/s, ` +
        `${fmt(r.cpuMsPerDelivery, 2)} ms CPU each; Kindred at ${pct(f.deliveriesPerS, r.deliveriesPerS)}` +
        `${r === same ? " (target ≥ 70 %)" : ""}`,
    );
  return lines;
}
