// Attacks on issue 13's warning categories, as an author who wants none: a
// community requires a category on threads; the composer refuses a thread
// without one, but the edit form takes any `cw`, so the required warning is
// dropped right after posting (and the `Update` carries no warning either).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "../../src/communities/membership.ts";
import { addCategory, setRequirement } from "../../src/warnings/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedUser } from "../helpers/seed.ts";

describe.each(dialects)("a required warning category and the edit form (%s)", (dialect) => {
  let instance: TestInstance;
  let loss: string;
  const db = () => instance.runtime.db;
  const postRow = (title: string) =>
    db().selectFrom("posts").selectAll().where("title", "=", title).executeTakeFirstOrThrow();

  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const admin = await seedUser(instance, "root", { role: "admin" });
    const community = await seedCommunity(instance, admin, { slug: "grief", name: "Grief" });
    const mira = await seedUser(instance, "mira");
    await join(db(), instance.url, community, mira.actorId);
    loss = await addCategory(db(), community.id, { label: "Pregnancy loss" });
    await setRequirement(db(), community.id, "all");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("editing a thread can't strip the category the community requires", async () => {
    const mira = await loggedIn(instance, "mira");
    await mira.get("/@grief/submit");
    const posted = await mira.post("/@grief/submit", { title: "Twelve weeks", body: "My story.", warning: loss });
    expect(posted.status).toBe(303);
    const before = await postRow("Twelve weeks");
    expect(before.summary).toBe("Pregnancy loss");

    await mira.get(`/posts/${before.id}/edit`);
    const edited = await mira.post(`/posts/${before.id}/edit`, { title: "Twelve weeks", body: "My story.", cw: "" });
    expect([303, 422]).toContain(edited.status);
    const after = await postRow("Twelve weeks");
    expect(after.summary ?? "", "the warning after the edit").toMatch(/^Pregnancy loss/);
    expect(after.sensitive).toBe(1);
  });
});
