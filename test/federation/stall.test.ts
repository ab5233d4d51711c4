// No peer can stall the queue (issue 14): a community on a real Kindred
// instance is followed from 100 well-behaved servers and from three bad ones
// — one accepts deliveries and never answers, one answers after 60 s, one
// streams an endless error page a byte at a time. Every well-behaved server
// still gets every thread, and signed activities sent to Kindred meanwhile are
// stored, while the bad servers hang. Timeouts are lowered through the
// configuration so the test stays short; it asserts what arrives, never how fast.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { queueDepth, until } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { fixture, snowflake, uuid } from "../helpers/peer.ts";
import { seedCommunity, seedThread, seedUser } from "../helpers/seed.ts";
import { Sink, type SinkBehaviour } from "../helpers/sinks.ts";

const NORMAL_PEERS = 100;
const DEADLINE_MS = 45_000;
/** Inbound Creates per round: each is re-shared to every follower, twice (about 200 deliveries). */
const NOTES = 5;

/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(task));
}

describe.each(dialects)("a queue no peer can stall, on %s", (dialect) => {
  let instance: TestInstance;
  let admin: LocalUser;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  let normal: Sink[] = [];
  let bad: Record<Exclude<SinkBehaviour, "normal">, Sink>;
  let author: Sink;
  const db = () => instance.runtime.db;
  const threadIris: string[] = [];

  const follow = async (sink: Sink) => {
    const activity = { "@context": "https://www.w3.org/ns/activitystreams", id: `${sink.origin}/${uuid()}` };
    const status = await sink.send(`${community.iri}/inbox`, {
      ...activity,
      type: "Follow",
      actor: sink.actor,
      object: community.iri,
    });
    expect(status).toBe(202);
  };
  const followers = async () =>
    Number(
      (
        await db()
          .selectFrom("follows")
          .innerJoin("actors as followee", "followee.id", "follows.followee_id")
          .innerJoin("actors as follower", "follower.id", "follows.follower_id")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .where("followee.iri", "=", community.iri)
          .where("follower.local", "=", 0)
          .where("follows.status", "=", "accepted")
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** A Mastodon-shaped signed `Create(Note)` from the author's server, mentioning the community. */
  const note = (text: string) =>
    fixture("mastodon/create_note.json", {
      origin: author.origin,
      host: new URL(author.origin).host,
      actor: author.actor,
      username: "u",
      id: snowflake(),
      published: new Date().toISOString(),
      inReplyTo: null,
      mentioned: community.iri,
      mentionedUrl: community.iri,
      mentionedName: "long-covid",
      mentionedHost: new URL(community.iri).host,
      text,
      hashtag: "longcovid",
    });

  /**
   * Posts 3 threads and, at the same time, sends NOTES signed Creates to Kindred's inbox; waits until
   * every normal peer has both Announces of each thread and every Create is stored. Returns how long each took.
   */
  async function round(label: string): Promise<{ fanOutMs: number; inboundMs: number }> {
    const started = Date.now();
    const threads: { iri: string }[] = [];
    for (let i = 0; i < 3; i++) threads.push(await seedThread(instance, community, admin, `${label} ${i}`));
    threadIris.push(...threads.map((t) => t.iri));
    const fannedOut = until(
      `every one of ${NORMAL_PEERS} peers to get both Announces of 3 threads (${label})`,
      async () => normal.filter((s) => threads.every((t) => s.postsWith("Announce", t.iri).length >= 2)).length,
      (n) => n === NORMAL_PEERS,
      DEADLINE_MS,
    ).then(() => Date.now() - started);
    const notes = Array.from({ length: NOTES }, (_, i) => note(`${label}: pacing note ${i}`));
    await inBatches(notes, 4, async (n) => expect(await author.send(`${instance.url}/inbox`, n)).toBe(202));
    const iris = notes.map((n) => String(n.object.id));
    const inboundMs = await until(
      `the ${NOTES} inbound notes to be stored (${label})`,
      async () => (await db().selectFrom("posts").select("iri").where("iri", "in", iris).execute()).length,
      (n) => n === iris.length,
      DEADLINE_MS,
    ).then(() => Date.now() - started);
    return { fanOutMs: await fannedOut, inboundMs };
  }

  beforeAll(async () => {
    instance = await startTestInstance({
      dialect,
      env: {
        OUTBOUND_TIMEOUT_S: "3",
        OUTBOUND_CONNECT_TIMEOUT_S: "2",
        DELIVERY_CONCURRENCY: "16",
        DELIVERY_HOST_CONCURRENCY: "2",
        INBOX_CONCURRENCY: "4",
      },
    });
    admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "long-covid", name: "Long Covid" });
    normal = await Promise.all(Array.from({ length: NORMAL_PEERS }, () => Sink.start()));
    const [never, slow, endless, writer] = await Promise.all([
      Sink.start("never-answers"),
      Sink.start("answers-in-60s"),
      Sink.start("endless-body"),
      Sink.start(),
    ]);
    bad = { "never-answers": never, "answers-in-60s": slow, "endless-body": endless };
    author = writer;
    await inBatches([...normal, author], 8, follow);
    await until("the normal peers' follows", followers, (n) => n === NORMAL_PEERS + 1, DEADLINE_MS);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...normal, ...Object.values(bad ?? {}), author].map((s) => s?.stop()));
    await instance?.stop();
  });

  it("delivers every thread to 100 peers and stores inbound activities while three peers hang", async () => {
    const healthy = await round("without bad peers");
    // The second round starts from an empty queue too (the re-shares of the first round's notes are delivered).
    await until(
      "the first round's deliveries",
      async () => (await queueDepth(db())).fedify,
      (n) => n === 0,
      DEADLINE_MS,
    );

    await inBatches(Object.values(bad), 3, follow);
    await until("the bad peers' follows", followers, (n) => n === NORMAL_PEERS + 4, DEADLINE_MS);
    // Each bad peer is holding a delivery (the Accept of its Follow) before the round starts.
    for (const sink of Object.values(bad))
      await until(
        `${sink.behaviour} to hang`,
        async () => sink.open,
        (n) => n > 0,
        DEADLINE_MS,
      );
    const stalled = await round("with bad peers");

    // Kindred cuts its requests to the bad peers (OUTBOUND_TIMEOUT_S): nothing waits on them for good.
    for (const sink of Object.values(bad))
      await until(
        `Kindred to give up on ${sink.behaviour}`,
        async () => sink.cut,
        (n) => n > 0,
        DEADLINE_MS,
      );
    // Each normal peer got each thread's two Announces exactly once: no delivery was worked on twice.
    for (const sink of normal)
      for (const t of threadIris) expect(sink.postsWith("Announce", t).length, `${sink.origin}: ${t}`).toBe(2);
    console.info(
      `[stall ${dialect}] ${NORMAL_PEERS} peers had 3 threads after ${healthy.fanOutMs} ms without bad peers, ` +
        `${stalled.fanOutMs} ms with them; ${NOTES} inbound Creates stored after ${healthy.inboundMs} / ` +
        `${stalled.inboundMs} ms`,
    );
  }, 150_000);
});
