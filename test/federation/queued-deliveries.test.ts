// The QueuedDeliveries port (federation/queued-deliveries.ts) against messages
// that Fedify itself queued: a community re-shares Ivy's thread to a follower
// whose server is down, so Fedify keeps the deliveries for a retry. The port
// must find them as Ivy's (the erasure waits for them) and drop them (they
// hold her text), and leave everyone else's alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fedifyQueuedDeliveries } from "../../federation/queued-deliveries.ts";
import { createCommunity, getCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { fedifyMessages, until } from "../helpers/federation.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { freePort } from "../helpers/processes.ts";
import { seedUser } from "../helpers/seed.ts";
import { seedFollow, seedRemoteActor } from "../policy/support.ts";

describe("queued deliveries behind the erasure's port", () => {
  let a: TestInstance;
  beforeAll(async () => {
    a = await startTestInstance();
  });
  afterAll(async () => {
    await a?.stop();
  });

  it("finds an author's deliveries and re-shares waiting for a retry, drops only those, and says how many", async () => {
    const db = a.runtime.db;
    const admin = await seedUser(a, "admin", { role: "admin" });
    const ivy = await seedUser(a, "ivy");
    const ned = await seedUser(a, "ned");
    await createCommunity(db, a.url, admin, { slug: "mecfs", name: "ME/CFS" });
    const community = await getCommunity(db, "mecfs");
    // A follower on a port nobody listens on: every delivery to it fails and is retried later.
    const down = await seedRemoteActor(db, `127.0.0.1:${await freePort()}`, "offline");
    await seedFollow(db, down, community.id);
    const unique = "Ivy-pacing-diary-4KD";
    await createThread(db, a.url, community, ivy.actorId, { title: "Pacing", body: unique });
    await createThread(db, a.url, community, ned.actorId, { title: "Ned's thread", body: "Ned-text-8QZ" });

    const retries = () => fedifyMessages(db).then((all) => all.filter((m) => m.type === "outbox" && m.attempt >= 1));
    await until(
      "both threads' re-shares queued for a retry",
      retries,
      (ms) => ms.some((m) => m.payload.includes(unique)) && ms.some((m) => m.payload.includes("Ned-text-8QZ")),
    );
    const ivyIri = `${a.url}/@ivy`;
    const nedIri = `${a.url}/@ned`;
    expect(await fedifyQueuedDeliveries.holdsActivitiesBy(db, ivyIri)).toBe(true);
    expect(await fedifyQueuedDeliveries.holdsActivitiesBy(db, `${a.url}/@admin`)).toBe(false);

    const dropped = await fedifyQueuedDeliveries.forget(db, ivyIri);
    expect(dropped).toBeGreaterThanOrEqual(1);
    const left = await fedifyMessages(db);
    expect(left.filter((m) => m.payload.includes(unique))).toEqual([]);
    expect(left.some((m) => m.payload.includes("Ned-text-8QZ"))).toBe(true);
    expect(await fedifyQueuedDeliveries.holdsActivitiesBy(db, ivyIri)).toBe(false);
    expect(await fedifyQueuedDeliveries.holdsActivitiesBy(db, nedIri)).toBe(true);
  });
});
