// Moderation from other servers, in Lemmy's shapes (FEP-1b12). A Kindred
// member joins a Lemmy community, whose moderators collection lists its
// moderator; the community announces each of Lemmy's moderation activities
// (removal and restore, lock and unlock, pin and unpin, moderator added and
// dismissed, ban and unban) and each changes our copy. A locked thread and a
// ban then refuse later posts. And a remote moderator of one of OUR
// communities locks a thread by sending Lock straight to it: applied, and
// re-shared by the community as received (a `moderation.received` event).
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dialect } from "../../db/connect.ts";
import type { LocalUser } from "../../src/accounts/service.ts";
import { followRemote } from "../../src/follows/service.ts";
import { addModerator } from "../../src/moderation/people.ts";
import { createThread } from "../../src/posts/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { lemmyAnnounce, lemmyModeration, lemmyUndo } from "../helpers/lemmy-moderation.ts";
import { fixture, Peer, type PeerActor, uuid, waitFor } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { actorByIri, followRow, postByIri, queueIdle } from "./support.ts";

let postSeq = 7000;

/** Keeps a copy of every domain event written (the outbox consumes and deletes them at once). */
async function keepEvents(instance: TestInstance, dialect: Dialect): Promise<() => Promise<any[]>> {
  const db = instance.runtime.db;
  await sql`CREATE TABLE kept_events (payload text)`.execute(db);
  if (dialect === "sqlite")
    await sql`CREATE TRIGGER keep_events AFTER INSERT ON fedify_queue WHEN NEW.queue = 'events'
      BEGIN INSERT INTO kept_events VALUES (NEW.payload); END`.execute(db);
  else {
    await sql`CREATE FUNCTION keep_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.queue = 'events' THEN INSERT INTO kept_events VALUES (NEW.payload); END IF;
      RETURN NEW; END $$`.execute(db);
    await sql`CREATE TRIGGER keep_events AFTER INSERT ON fedify_queue
      FOR EACH ROW EXECUTE FUNCTION keep_event()`.execute(db);
  }
  return async () =>
    (await sql<{ payload: string }>`SELECT payload FROM kept_events`.execute(db)).rows.map((r) =>
      JSON.parse(r.payload),
    );
}

describe.each(dialects)("moderation received from Lemmy (%s)", (dialect) => {
  let instance: TestInstance;
  let lemmy: Peer;
  let admin: LocalUser;
  let group: PeerActor;
  let mod: PeerActor;
  let beta: PeerActor;
  let gamma: PeerActor;
  let newMod: PeerActor;
  let groupId: string;
  let thread: string;
  let reply: string;
  let events: () => Promise<any[]>;

  const db = () => instance.runtime.db;
  const announced = async (inner: Record<string, any>) => {
    const res = await lemmy.send(group, `${instance.url}/inbox`, lemmyAnnounce(group.id, inner));
    expect(res.status, res.text).toBe(202);
  };
  const pageBy = async (author: PeerActor, title: string) => {
    const announce = fixture("lemmy/announce_create_page.json", {
      origin: lemmy.origin,
      group: group.id,
      actor: author.id,
      id: ++postSeq,
      uuid: uuid(),
      announceUuid: uuid(),
      title,
      source: title,
      content: `<p>${title}</p>`,
      published: new Date().toISOString(),
    });
    expect((await lemmy.send(group, `${instance.url}/inbox`, announce)).status).toBe(202);
    return announce.object.object.id as string;
  };
  const replyBy = async (author: PeerActor, parent: string, parentAuthor: PeerActor, text: string) => {
    const create = fixture("lemmy/create_note.json", {
      origin: lemmy.origin,
      actor: author.id,
      group: group.id,
      id: ++postSeq,
      uuid: uuid(),
      inReplyTo: parent,
      parentAuthor: parentAuthor.id,
      parentAuthorName: parentAuthor.username,
      source: text,
      content: `<p>${text}</p>`,
      published: new Date().toISOString(),
    });
    await announced(create);
    return create.object.id as string;
  };
  const post = (iri: string) => postByIri(instance, iri);
  const moderatorIris = async () =>
    (
      await db()
        .selectFrom("community_moderators")
        .innerJoin("actors", "actors.id", "community_moderators.actor_id")
        .select("actors.iri")
        .where("community_moderators.community_id", "=", groupId)
        .execute()
    )
      .map((r) => r.iri)
      .sort();
  const ban = async (person: PeerActor) =>
    db()
      .selectFrom("community_bans")
      .innerJoin("actors", "actors.id", "community_bans.actor_id")
      .select(["community_bans.reason", "community_bans.expires_at"])
      .where("community_bans.community_id", "=", groupId)
      .where("actors.iri", "=", person.id)
      .executeTakeFirst();
  const by = (actor: PeerActor, kind: Parameters<typeof lemmyModeration>[0], object: string, extra = {}) =>
    lemmyModeration(kind, { actor: actor.id, group: group.id, object, ...extra });

  beforeAll(async () => {
    [instance, lemmy] = await Promise.all([startTestInstance({ dialect }), Peer.start("lemmy")]);
    events = await keepEvents(instance, dialect);
    admin = await seedUser(instance, "admin", { role: "admin" });
    group = await lemmy.addActor("main", { type: "Group", name: "Main" });
    [mod, beta, gamma, newMod] = await Promise.all([
      lemmy.addActor("lemmy_mod"),
      lemmy.addActor("lemmy_beta"),
      lemmy.addActor("lemmy_gamma"),
      lemmy.addActor("lemmy_new"),
    ]);
    lemmy.setModerators(group, [mod.id]);
    groupId = (await instance.runtime.remote!.resolveActor(group.id))!;
    expect(await followRemote(db(), instance.url, admin.actorId, groupId)).toBe("pending");
    await lemmy.acceptFollow(group, admin.iri);
    await waitFor(async () => (await followRow(instance, admin.iri, group.id))?.status === "accepted", {
      label: "the join accepted",
    });
    thread = await pageBy(beta, "Pacing and payback");
    await waitFor(() => post(thread), { label: "beta's thread" });
    reply = await replyBy(gamma, thread, beta, "Buy pills at example.com");
    await waitFor(() => post(reply), { label: "gamma's reply" });
  });
  afterAll(async () => {
    await lemmy?.stop();
    await instance?.stop();
  });

  it("a moderator's removal (Delete with summary) removes the reply; its Undo restores it", async () => {
    const remove = by(mod, "remove", reply, { summary: "bad comment" });
    await announced(remove);
    const removed = await waitFor(
      async () => {
        const row = await post(reply);
        return row?.removed_at ? row : undefined;
      },
      { label: "the reply removed" },
    );
    // Removed, not deleted: the text stays for the author and the moderators.
    expect(removed).toMatchObject({ deleted_at: null, removed_by: (await actorByIri(instance, mod.id))!.id });
    expect(removed.content_html).toContain("Buy pills");
    const action = await db()
      .selectFrom("moderation_actions")
      .selectAll()
      .where("activity_iri", "=", remove.id)
      .executeTakeFirstOrThrow();
    expect(action).toMatchObject({ action: "remove_post", reason: "bad comment", remote: 1, community_id: groupId });
    expect(await moderatorIris()).toEqual([mod.id]);

    await announced(lemmyUndo(remove));
    await waitFor(async () => (await post(reply))?.removed_at === null, { label: "the reply restored" });
  });

  it("Lock locks the thread; a later reply is refused; Undo(Lock) unlocks it and replies come again", async () => {
    const lock = by(mod, "lock", thread, { summary: "A reason for the lock" });
    await announced(lock);
    await waitFor(async () => (await post(thread))?.locked === 1, { label: "the thread locked" });

    const refused = await replyBy(gamma, thread, beta, "Still here");
    await queueIdle(instance);
    expect(await post(refused), "a reply to a locked thread").toBeUndefined();

    await announced(lemmyUndo(lock, "A reason for the unlock"));
    await waitFor(async () => (await post(thread))?.locked === 0, { label: "the thread unlocked" });
    const later = await replyBy(gamma, thread, beta, "Back again");
    await waitFor(() => post(later), { label: "a reply once unlocked" });
  });

  it("Add and Remove on the community's featured collection pin and unpin the thread", async () => {
    await announced(by(mod, "feature", thread));
    await waitFor(async () => (await post(thread))?.pinned_at, { label: "the thread pinned" });
    await announced(by(mod, "unfeature", thread));
    await waitFor(async () => (await post(thread))?.pinned_at === null, { label: "the thread unpinned" });
  });

  it("Add and Remove on the community's moderators collection appoint and dismiss a moderator", async () => {
    await announced(by(mod, "add_mod", newMod.id));
    await waitFor(async () => (await moderatorIris()).includes(newMod.id), { label: "the new moderator" });
    // The new moderator's own actions now count.
    await announced(by(newMod, "lock", thread));
    await waitFor(async () => (await post(thread))?.locked === 1, { label: "locked by the new moderator" });
    await announced(lemmyUndo(by(newMod, "lock", thread)));
    await waitFor(async () => (await post(thread))?.locked === 0, { label: "unlocked by the new moderator" });

    await announced(by(mod, "remove_mod", newMod.id));
    await waitFor(async () => !(await moderatorIris()).includes(newMod.id), { label: "the moderator dismissed" });
    await announced(by(newMod, "lock", thread));
    await queueIdle(instance);
    expect((await post(thread))?.locked, "a dismissed moderator's Lock").toBe(0);
  });

  it("Block bans a person (with removeData, until endTime): their posts go, later ones are refused", async () => {
    const endTime = new Date(Date.now() + 86_400_000).toISOString();
    const block = by(mod, "block", beta.id, { summary: "spam post", endTime, removeData: true });
    await announced(block);
    const row = await waitFor(() => ban(beta), { label: "the ban" });
    expect(row).toEqual({ reason: "spam post", expires_at: endTime });
    await waitFor(async () => (await post(thread))?.removed_at, { label: "beta's thread removed with the ban" });

    const refused = await pageBy(beta, "I am back");
    await queueIdle(instance);
    expect(await post(refused), "a banned person's new thread").toBeUndefined();

    await announced(lemmyUndo(block));
    await waitFor(async () => (await ban(beta)) === undefined, { label: "the ban lifted" });
    const welcome = await pageBy(beta, "Thanks for having me back");
    await waitFor(() => post(welcome), { label: "beta's thread once unbanned" });
  });

  it("a ban whose endTime has passed refuses nothing (Lemmy's expiry is honoured)", async () => {
    const endTime = new Date(Date.now() - 60_000).toISOString();
    await announced(by(mod, "block", gamma.id, { summary: "cool off", endTime }));
    await waitFor(() => ban(gamma), { label: "the expired ban recorded" });
    const later = await pageBy(gamma, "After the ban");
    await waitFor(() => post(later), { label: "gamma's thread after the ban ended" });
  });

  describe("a remote moderator of one of our communities", () => {
    let community: Awaited<ReturnType<typeof seedCommunity>>;
    let remoteMod: PeerActor;

    beforeAll(async () => {
      community = await seedCommunity(instance, admin, { slug: "pacing", name: "Pacing" });
      remoteMod = await lemmy.addActor("lemmy_pacer");
      const follow = fixture("lemmy/follow.json", {
        origin: lemmy.origin,
        actor: remoteMod.id,
        group: community.iri,
        uuid: uuid(),
      });
      expect((await lemmy.send(remoteMod, `${community.iri}/inbox`, follow)).status).toBe(202);
      await waitFor(async () => (await followRow(instance, remoteMod.id, community.iri))?.status === "accepted", {
        label: "the Lemmy member's join",
      });
      const actor = (await actorByIri(instance, remoteMod.id))!;
      await addModerator(db(), instance.url, { role: "admin", actorId: null }, community.id, actor.id);
    });

    it("locks a thread by sending Lock to the community, which re-shares it as received", async () => {
      const local = await createThread(db(), instance.url, community, admin.actorId, { title: "Rules", body: "…" });
      const lock = lemmyModeration("lock", { actor: remoteMod.id, group: community.iri, object: local.iri });
      const res = await lemmy.send(remoteMod, `${community.iri}/inbox`, lock);
      expect(res.status, res.text).toBe(202);
      await waitFor(async () => (await post(local.iri))?.locked === 1, { label: "the local thread locked" });
      const action = await db()
        .selectFrom("moderation_actions")
        .selectAll()
        .where("activity_iri", "=", lock.id)
        .executeTakeFirstOrThrow();
      expect(action).toMatchObject({ action: "lock", remote: 1, by_role: "moderator", community_id: community.id });
      const reshare = (await events()).find((e) => e.type === "moderation.received" && e.actionId === action.id);
      expect(reshare?.activity, "the event carries the Lock as received").toEqual(lock);

      const unlock = lemmyUndo(lock);
      expect((await lemmy.send(remoteMod, `${community.iri}/inbox`, unlock)).status).toBe(202);
      await waitFor(async () => (await post(local.iri))?.locked === 0, { label: "the local thread unlocked" });
    });
  });
});
