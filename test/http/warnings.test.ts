// Content-warning categories and crisis resources, their settings (issue 13):
// moderators define a community's categories and whether one is required,
// members choose per category, admins edit the crisis notice per language.
// Real instance over HTTP, on SQLite and PostgreSQL; the keyword matcher alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "../../src/communities/membership.ts";
import { acceptedLanguages, crisisSettings, matchesKeywords, pickLanguage } from "../../src/crisis/service.ts";
import { chooseWarning, warningChoices } from "../../src/warnings/service.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { loggedIn, seedCommunity, seedUser, unescapeHtml } from "../helpers/seed.ts";

describe("crisis keywords", () => {
  const list = "kill myself\nself harm\nsuicide";
  it("match whole words and phrases, whatever the case, accents or punctuation", () => {
    expect(matchesKeywords("Some days I want to KILL   myself.", list)).toBe(true);
    expect(matchesKeywords("thinking about self-harm again", list)).toBe(true);
    expect(matchesKeywords("Suicide prevention week", list)).toBe(true);
    expect(matchesKeywords("the painkillers help myself", list)).toBe(false);
    expect(matchesKeywords("selfharm", list)).toBe(false);
    expect(matchesKeywords("anything", "\n\n")).toBe(false);
  });
  it("pick the reader's language, by primary tag, else the first configured", () => {
    const settings = {
      languages: [
        { locale: "en", notice: "en", keywords: "" },
        { locale: "de", notice: "de", keywords: "" },
      ],
    };
    expect(pickLanguage(settings, acceptedLanguages("fr-FR,de-AT;q=0.8,en;q=0.5")).locale).toBe("de");
    expect(pickLanguage(settings, acceptedLanguages("fr")).locale).toBe("en");
    expect(acceptedLanguages("da, en-gb;q=0.8, en;q=0.7, *;q=0.1")).toEqual(["da", "en-gb", "en"]);
  });
});

describe.each(dialects)("warning categories and crisis settings (%s)", (dialect) => {
  let instance: TestInstance;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  beforeAll(async () => {
    instance = await startTestInstance({ dialect });
    const admin = await seedUser(instance, "root", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "loss", name: "Pregnancy loss" });
    const member = await seedUser(instance, "mira");
    await join(instance.runtime.db, instance.url, community, member.actorId);
    await seedUser(instance, "outsider");
  });
  afterAll(async () => {
    await instance?.stop();
  });

  it("moderators add, require and remove categories; others can't", async () => {
    const outsider = await loggedIn(instance, "outsider");
    expect((await outsider.get("/@loss/warnings")).status).toBe(403);
    const mod = await loggedIn(instance, "root");
    const page = await mod.get("/@loss/warnings");
    expect(page.status).toBe(200);
    expect(
      (await mod.post("/@loss/warnings", { label: "Pregnancy loss", description: "miscarriage, stillbirth" })).status,
    ).toBe(303);
    expect((await mod.post("/@loss/warnings", { label: "Self-harm", crisis: "1" })).status).toBe(303);
    const twice = await mod.post("/@loss/warnings", { label: "self-harm" });
    expect(twice.status).toBe(409);
    const empty = await mod.post("/@loss/warnings", { label: "  " });
    expect(empty.status).toBe(422);
    expect((await mod.post("/@loss/warnings/requirement", { required: "threads" })).status).toBe(303);
    const shown = await mod.get("/@loss/warnings");
    expect(shown.text).toContain("shows the crisis resources");

    const categories = await instance.runtime.db.selectFrom("warning_categories").select(["id", "label"]).execute();
    const loss = categories.find((c) => c.label === "Pregnancy loss")!;
    // A thread must carry a category now; a reply need not.
    await expect(chooseWarning(instance.runtime.db, community.id, { reply: false })).rejects.toThrow(
      /choose a category/,
    );
    expect(await chooseWarning(instance.runtime.db, community.id, { reply: true, words: "" })).toEqual({
      summary: null,
      sensitive: false,
      categoryId: null,
    });
    expect(
      await chooseWarning(instance.runtime.db, community.id, { categoryId: loss.id, words: "my story", reply: false }),
    ).toEqual({
      summary: "Pregnancy loss: my story",
      sensitive: true,
      categoryId: loss.id,
    });
    await expect(
      chooseWarning(instance.runtime.db, community.id, { categoryId: "not-a-category", reply: true }),
    ).rejects.toThrow(/isn't one of this community's/);
    expect((await outsider.post(`/@loss/warnings/${loss.id}/delete`, {})).status).toBe(403);
  });

  it("members choose per category; only their communities' categories are offered and saved", async () => {
    const mira = await loggedIn(instance, "mira");
    const page = await mira.get("/settings/warnings");
    expect(page.text).toContain("Pregnancy loss");
    const categories = await instance.runtime.db.selectFrom("warning_categories").select(["id", "label"]).execute();
    const [a, b] = categories;
    const saved = await mira.post("/settings/warnings", { [`choice:${a!.id}`]: "hide", [`choice:${b!.id}`]: "expand" });
    expect(saved.status).toBe(303);
    const user = await instance.runtime.db
      .selectFrom("actors")
      .select("id")
      .where("username_key", "=", "mira")
      .executeTakeFirstOrThrow();
    const choices = await warningChoices(instance.runtime.db, user.id);
    expect(choices.get(a!.id)).toBe("hide");
    expect(choices.get(b!.id)).toBe("expand");
    // Not a member: nothing offered, and a forged form saves nothing.
    const outsider = await loggedIn(instance, "outsider");
    expect((await outsider.get("/settings/warnings")).text).toContain("None of your communities");
    await outsider.post("/settings/warnings", { [`choice:${a!.id}`]: "hide" });
    const theirs = await instance.runtime.db.selectFrom("warning_preferences").select("user_id").execute();
    expect(theirs.every((r) => r.user_id === user.id)).toBe(true);
  });

  it("admins edit the crisis notice per language; a community adds its own lines", async () => {
    const admin = await loggedIn(instance, "root");
    const page = await admin.get("/admin/crisis");
    expect(unescapeHtml(page.text)).toContain("local emergency number");
    const saved = await admin.post("/admin/crisis", {
      locale_0: "en",
      notice_0: "Call 112 now.",
      keywords_0: "end it all",
      locale_1: "de",
      notice_1: "Ruf 112 an.",
      keywords_1: "nicht mehr leben",
    });
    expect(saved.status).toBe(303);
    const settings = await crisisSettings(instance.runtime.db);
    expect(settings.languages.map((l) => l.locale)).toEqual(["en", "de"]);
    const bad = await admin.post("/admin/crisis", { locale_0: "not a tag", notice_0: "x", keywords_0: "" });
    expect(bad.status).toBe(422);
    const member = await loggedIn(instance, "mira");
    expect((await member.get("/admin/crisis")).status).toBe(403);
    const community = await admin.post("/@loss/warnings/crisis", { addition: "Our helpline: 0800 000", alert: "1" });
    expect(community.status).toBe(303);
    const row = await instance.runtime.db
      .selectFrom("communities")
      .select(["crisis_addition", "crisis_alert"])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ crisis_addition: "Our helpline: 0800 000", crisis_alert: 1 });
  });
});
