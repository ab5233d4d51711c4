// A member's home page over real HTTP, with real federation: B's member joins
// two communities hosted on another Kindred instance (A) and one on B; their
// home page lists all three (the remote ones with their server) and a feed of
// the threads that reached B. A visitor's home page is the instance's directory.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { join } from "../../src/communities/membership.ts";
import { followRemote } from "../../src/follows/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { eventually, Peer, until } from "../helpers/federation.ts";
import { element, loggedIn, seedCommunity, seedUser, threadTitles } from "../helpers/seed.ts";

describe.each(dialects)("a member's home page with communities here and elsewhere (%s)", (dialect) => {
  let A: Peer;
  let B: Peer;
  let alice: LocalUser;
  let bob: LocalUser;
  let bobWeb: WebClient;
  /** The Group rows of A's communities on B. */
  const groupsOnB: Record<string, string> = {};
  let hostA: string;

  beforeAll(async () => {
    [A, B] = await Promise.all([Peer.start({ dialect }), Peer.start({ dialect })]);
    hostA = new URL(A.url).host;
    const modA = await seedUser(A, "mod_a", { role: "admin" });
    alice = await seedUser(A, "alice");
    const modB = await seedUser(B, "mod_b", { role: "admin" });
    bob = await seedUser(B, "bob");
    await seedUser(B, "newcomer");
    const here = await seedCommunity(B, modB, { slug: "local_chat", name: "Local chat" });
    expect(await join(B.db, B.url, here, bob.actorId)).toBe("accepted");
    for (const [slug, name] of [
      ["sleep", "Sleep trouble"],
      ["pain", "Chronic pain"],
    ] as const) {
      const community = await seedCommunity(A, modA, { slug, name });
      expect(await join(A.db, A.url, community, alice.actorId)).toBe("accepted");
      const groupId = await B.runtime.remote!.resolveActor(community.iri);
      expect(groupId, `B resolves ${community.iri}`).toBeTruthy();
      await followRemote(B.db, B.url, bob.actorId, groupId!);
      await until(
        `bob's membership of ${slug} accepted on B`,
        () =>
          B.db
            .selectFrom("follows")
            .select("status")
            .where("follower_id", "=", bob.actorId)
            .where("followee_id", "=", groupId!)
            .executeTakeFirst(),
        (row) => row?.status === "accepted",
      );
      groupsOnB[slug] = groupId!;
      const thread = await createThread(A.db, A.url, community, alice.actorId, {
        title: `Alice asks in ${name}`,
        body: "Does anyone else wake at 4 am?",
      });
      await eventually(`alice's thread in ${slug} on B`, () =>
        B.db.selectFrom("posts").select("id").where("iri", "=", thread.iri).executeTakeFirst(),
      );
    }
    // A community bob only asked to join (never accepted) is not his.
    const vetted = await seedCommunity(A, modA, { slug: "vetted", name: "Vetted", join: "approval" });
    const vettedOnB = await B.runtime.remote!.resolveActor(vetted.iri);
    await followRemote(B.db, B.url, bob.actorId, vettedOnB!);
    bobWeb = await loggedIn(B, "bob");
  }, 120_000);
  afterAll(async () => {
    await Promise.all([A?.destroy(), B?.destroy()]);
  });

  it("lists the communities the member joined, here and on A, with A's server and new threads", async () => {
    const res = await bobWeb.get("/");
    expect(res.status).toBe(200);
    const yours = element(res.text, '<ul class="joined"') ?? "";
    expect(yours).toContain('<a href="/@local_chat">Local chat</a>');
    for (const [slug, name] of [
      ["sleep", "Sleep trouble"],
      ["pain", "Chronic pain"],
    ]) {
      const item = element(yours, `<li><a href="/@${slug}@${hostA}">`) ?? "";
      expect(item, `${slug} in ${yours}`).toContain(`${name}</a> <span class="handle">on ${hostA}</span>`);
      expect(item).toContain("1 new thread");
    }
    expect(yours).not.toContain("Vetted");
    expect(res.text).not.toContain("No communities yet");
  });

  it("shows the threads of those communities as the feed, each saying where it is", async () => {
    const res = await bobWeb.get("/");
    const feed = element(res.text, '<section class="threads" aria-labelledby="new-h"') ?? "";
    expect(threadTitles(feed).sort()).toEqual(["Alice asks in Chronic pain", "Alice asks in Sleep trouble"]);
    expect(feed).toContain(`in <a href="/@sleep@${hostA}">sleep@${hostA}</a>`);
    expect(feed).toContain(`in <a href="/@pain@${hostA}">pain@${hostA}</a>`);
  });

  it("a member who joined nothing is shown the directory; a visitor sees the instance's communities", async () => {
    const newcomer = await loggedIn(B, "newcomer");
    const page = (await newcomer.get("/")).text;
    expect(page).toContain("You have not joined a community yet.");
    // The directory follows on the same page, to find one.
    expect(element(page, '<section aria-labelledby="communities-h"') ?? "").toContain('href="/@local_chat"');
    const visitor = (await new WebClient(B.url).get("/")).text;
    expect(visitor).toContain('<h2 id="communities-h">Communities on this instance</h2>');
    expect(visitor).toContain('href="/@local_chat"');
    // The directory is this instance's communities only, and the home page no member's list.
    expect(visitor).not.toContain(`/@sleep@${hostA}`);
    expect(visitor).not.toContain('class="joined"');
  });

  it("a remote community's page asks for a refresh for members only, and does not wait on one that hangs", async () => {
    const remote = B.runtime.remote!;
    const original = remote.refreshCommunity;
    const asked: string[] = [];
    // A refresh that never ends: the page must still answer, with what B holds.
    remote.refreshCommunity = (id: string) => {
      asked.push(id);
      return new Promise<void>(() => {});
    };
    try {
      const visitor = await new WebClient(B.url).get(`/@sleep@${hostA}`);
      expect(visitor.status).toBe(200);
      expect(asked).toEqual([]);
      const res = await bobWeb.get(`/@sleep@${hostA}`);
      expect(res.status).toBe(200);
      expect(threadTitles(res.text)).toEqual(["Alice asks in Sleep trouble"]);
      expect(asked).toEqual([groupsOnB.sleep]);
    } finally {
      remote.refreshCommunity = original;
    }
  });
});
