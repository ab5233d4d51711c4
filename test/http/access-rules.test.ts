// Access rules that are easy to get subtly wrong: CSRF on every state change,
// log-in redirects, a community turning members-only, local-only communities.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCommunity, getCommunity, updateCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { safeNext } from "../../src/web/forms.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedUser } from "../helpers/seed.ts";

describe("safeNext", () => {
  it("keeps same-site paths and refuses anything a browser could read as another origin", () => {
    expect(safeNext("/@pots")).toBe("/@pots");
    for (const bad of [
      "//evil.example",
      "/\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "https://evil.example",
      "evil",
      "/a b",
    ]) {
      expect(safeNext(bad), JSON.stringify(bad)).toBe("/");
    }
  });
});

describe("access rules over HTTP", () => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance();
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("refuses a state-changing POST without the CSRF token whatever its content type", async () => {
    await seedUser(instance, "cara");
    const cara = await loggedIn(instance, "cara");
    const res = await cara.request("POST", "/logout", "plain text", { "content-type": "text/plain" });
    expect(res.status).toBe(403);
    expect(res.text).toContain("CSRF");
    expect((await cara.get("/settings")).status).toBe(200); // still logged in
  });

  it("moves a community's existing posts to followers-only when it turns members-only", async () => {
    const admin = await seedUser(instance, "admin", { role: "admin" });
    await createCommunity(instance.runtime.db, instance.url, admin, { slug: "circle", name: "Circle" });
    const community = await getCommunity(instance.runtime.db, "circle");
    const thread = await createThread(instance.runtime.db, instance.url, community, admin.actorId, {
      title: "Said in public",
      body: "#secretive",
    });
    expect(await (await fetch(`${instance.url}/tags/secretive`)).text()).toContain("Said in public");
    await updateCommunity(instance.runtime.db, instance.url, community.id, { name: "Circle", visibility: "members" });
    const row = await instance.runtime.db
      .selectFrom("posts")
      .select("audience")
      .where("id", "=", thread.id)
      .executeTakeFirstOrThrow();
    expect(row.audience).toBe("followers");
    expect(await (await fetch(`${instance.url}/tags/secretive`)).text()).not.toContain("Said in public");
    expect(await (await fetch(`${instance.url}/@admin`)).text()).not.toContain("Said in public");
    expect((await fetch(thread.iri, { headers: { accept: "application/activity+json" } })).status).toBe(401);
  });

  it("never serves a local-only community's posts over ActivityPub", async () => {
    const admin = await seedUser(instance, "owner", { role: "admin" });
    await createCommunity(instance.runtime.db, instance.url, admin, {
      slug: "inhouse",
      name: "In-house",
      federation: "local",
    });
    const thread = await createThread(
      instance.runtime.db,
      instance.url,
      await getCommunity(instance.runtime.db, "inhouse"),
      admin.actorId,
      { title: "Stays here" },
    );
    expect((await fetch(thread.iri, { headers: { accept: "application/activity+json" } })).status).toBe(404);
    const outbox = await (
      await fetch(`${instance.url}/@owner/outbox`, { headers: { accept: "application/activity+json" } })
    ).text();
    expect(outbox).not.toContain("Stays here");
    expect((await fetch(thread.iri)).status).toBe(200); // the page itself is there for local readers
  });
});
