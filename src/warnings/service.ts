// Content-warning categories (issue 13). A community's moderators name the
// warnings its posts may need ("self-harm", "pregnancy loss"…) and may require
// one on every thread, or on every post. A post's warning goes out as Mastodon
// reads one: `summary` (the category, then the author's own words) with
// `sensitive`, so Mastodon and Lemmy readers see the same warning.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import type { WarningChoice, WarningRequirement } from "../../db/warnings-schema.ts";
import { conflict, invalid, notFound, parseInput } from "../errors.ts";
import { newId, now } from "../ids.ts";

export const MAX_CATEGORIES = 30;
/** As a Mastodon content warning is one short line: the category, a colon and the author's words fit in 500. */
export const MAX_WARNING_WORDS = 400;

export interface WarningCategory {
  id: string;
  label: string;
  description: string;
  crisis: boolean;
}

export async function listCategories(db: Db, communityId: string): Promise<WarningCategory[]> {
  const rows = await db
    .selectFrom("warning_categories")
    .select(["id", "label", "description", "crisis"])
    .where("community_id", "=", communityId)
    .orderBy("label_key")
    .execute();
  return rows.map((r) => ({ ...r, crisis: r.crisis === 1 }));
}

const categoryInput = z.object({
  label: z.string().trim().min(1, "name the category").max(60, "must be at most 60 characters"),
  description: z.string().trim().max(300, "must be at most 300 characters").default(""),
  crisis: z.boolean().default(false),
});

/** Adds a category (moderators' call; the route checks who asks). */
export async function addCategory(db: Db, communityId: string, input: z.input<typeof categoryInput>): Promise<string> {
  const data = parseInput(categoryInput, input);
  const count = await db
    .selectFrom("warning_categories")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("community_id", "=", communityId)
    .executeTakeFirst();
  if (Number(count?.n ?? 0) >= MAX_CATEGORIES)
    throw invalid(`a community has at most ${MAX_CATEGORIES} warning categories`, { label: "too many categories" });
  const id = newId();
  try {
    await db
      .insertInto("warning_categories")
      .values({
        id,
        community_id: communityId,
        label: data.label,
        label_key: data.label.toLowerCase(),
        description: data.description,
        crisis: data.crisis ? 1 : 0,
        created_at: now(),
      })
      .execute();
  } catch {
    throw conflict(`the community already has a category "${data.label}"`, { label: "already exists" });
  }
  return id;
}

/** Removes a category: posts keep their warning text, members' choices for it go. */
export async function removeCategory(db: Db, communityId: string, categoryId: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("warning_preferences").where("category_id", "=", categoryId).execute();
    await trx
      .updateTable("posts")
      .set({ warning_category_id: null })
      .where("warning_category_id", "=", categoryId)
      .execute();
    const gone = await trx
      .deleteFrom("warning_categories")
      .where("id", "=", categoryId)
      .where("community_id", "=", communityId)
      .executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) throw notFound("warning category");
  });
}

export const requirementSchema = z.enum(["never", "threads", "all"]);

export async function setRequirement(db: Db, communityId: string, requirement: WarningRequirement): Promise<void> {
  const value = parseInput(requirementSchema, requirement);
  await db.updateTable("communities").set({ warning_required: value }).where("actor_id", "=", communityId).execute();
}

export async function requirementOf(db: Db, communityId: string): Promise<WarningRequirement> {
  const row = await db
    .selectFrom("communities")
    .select("warning_required")
    .where("actor_id", "=", communityId)
    .executeTakeFirst();
  return row?.warning_required ?? "never";
}

export interface ChosenWarning {
  /** `summary` as stored and federated: the category's label, then the author's words. */
  summary: string | null;
  sensitive: boolean;
  categoryId: string | null;
}

/**
 * The warning a new post in `communityId` carries, from what the author chose
 * in the composer; refuses a post without a category where one is required.
 */
export async function chooseWarning(
  db: Db,
  communityId: string | null,
  input: { categoryId?: string | null; words?: string | null; reply: boolean },
): Promise<ChosenWarning> {
  // Without a category the words are the whole warning, checked with the post (500 characters).
  const words = (input.words ?? "").trim() || null;
  if (!communityId) return { summary: words, sensitive: words !== null, categoryId: null };
  const category = input.categoryId
    ? await db
        .selectFrom("warning_categories")
        .select(["id", "label"])
        .where("id", "=", input.categoryId)
        .where("community_id", "=", communityId)
        .executeTakeFirst()
    : undefined;
  if (input.categoryId && !category)
    throw invalid("warning: that category isn't one of this community's", { warning: "is not offered here" });
  if (!category) {
    const required = await requirementOf(db, communityId);
    if (required === "all" || (required === "threads" && !input.reply))
      throw invalid("warning: this community asks every post to carry a content warning: choose a category", {
        warning: "choose a category: this community requires one",
      });
    return { summary: words, sensitive: words !== null, categoryId: null };
  }
  if (words && words.length > MAX_WARNING_WORDS)
    throw invalid(`cw: with a category, your own words must be at most ${MAX_WARNING_WORDS} characters`, {
      cw: `must be at most ${MAX_WARNING_WORDS} characters with a category`,
    });
  return {
    summary: words ? `${category.label}: ${words}` : category.label,
    sensitive: true,
    categoryId: category.id,
  };
}

/** A member's choice per category; categories they never set are "collapse" (the default). */
export async function warningChoices(db: Db, userId: string | undefined): Promise<Map<string, WarningChoice>> {
  if (!userId) return new Map();
  const rows = await db
    .selectFrom("warning_preferences")
    .select(["category_id", "choice"])
    .where("user_id", "=", userId)
    .execute();
  return new Map(rows.map((r) => [r.category_id, r.choice]));
}

export const choiceSchema = z.enum(["expand", "collapse", "hide"]);

export async function setWarningChoice(
  db: Db,
  userId: string,
  categoryId: string,
  choice: WarningChoice,
): Promise<void> {
  const value = parseInput(choiceSchema, choice);
  const exists = await db.selectFrom("warning_categories").select("id").where("id", "=", categoryId).executeTakeFirst();
  if (!exists) throw notFound("warning category");
  if (value === "collapse") {
    await db
      .deleteFrom("warning_preferences")
      .where("user_id", "=", userId)
      .where("category_id", "=", categoryId)
      .execute();
    return;
  }
  await db
    .insertInto("warning_preferences")
    .values({ user_id: userId, category_id: categoryId, choice: value })
    .onConflict((oc) => oc.columns(["user_id", "category_id"]).doUpdateSet({ choice: value }))
    .execute();
}

/** Categories of the communities a member belongs to, with their choice, for the settings page. */
export async function categoriesForMember(db: Db, userId: string) {
  const rows = await db
    .selectFrom("warning_categories as w")
    .innerJoin("follows as f", (j) => j.onRef("f.followee_id", "=", "w.community_id"))
    .innerJoin("actors as c", "c.id", "w.community_id")
    .leftJoin("warning_preferences as p", (j) => j.onRef("p.category_id", "=", "w.id").on("p.user_id", "=", userId))
    .select(["w.id", "w.label", "w.description", "c.username as community", "c.name as communityName", "p.choice"])
    .where("f.follower_id", "=", userId)
    .where("f.status", "=", "accepted")
    .orderBy("c.username")
    .orderBy("w.label_key")
    .execute();
  return rows.map((r) => ({ ...r, choice: (r.choice ?? "collapse") as WarningChoice }));
}

/** The community's own lines under the crisis notice, and whether its moderators are alerted. */
export async function crisisOptionsOf(db: Db, communityId: string) {
  const row = await db
    .selectFrom("communities")
    .select(["crisis_addition", "crisis_alert"])
    .where("actor_id", "=", communityId)
    .executeTakeFirst();
  return { addition: row?.crisis_addition ?? "", alert: row?.crisis_alert === 1 };
}

const crisisOptions = z.object({
  addition: z.string().trim().max(2000, "must be at most 2000 characters"),
  alert: z.boolean(),
});

export async function setCrisisOptions(db: Db, communityId: string, input: z.input<typeof crisisOptions>) {
  const data = parseInput(crisisOptions, input);
  await db
    .updateTable("communities")
    .set({ crisis_addition: data.addition, crisis_alert: data.alert ? 1 : 0 })
    .where("actor_id", "=", communityId)
    .execute();
}

/**
 * An edit's warning: a post that carries one of its community's categories keeps it (the label leads, and
 * `sensitive` stays), whatever the edit form's text says; the author's own words after it may change.
 */
export async function editedWarning(
  db: Db,
  post: { warningCategoryId: string | null },
  words: string | undefined,
): Promise<{ cw: string | undefined; sensitive: boolean } | null> {
  if (!post.warningCategoryId) return null;
  const category = await db
    .selectFrom("warning_categories")
    .select("label")
    .where("id", "=", post.warningCategoryId)
    .executeTakeFirst();
  if (!category) return null;
  const typed = (words ?? "").trim();
  const own = typed.toLowerCase().startsWith(category.label.toLowerCase())
    ? typed
        .slice(category.label.length)
        .replace(/^\s*:\s*/, "")
        .trim()
    : typed;
  if (own.length > MAX_WARNING_WORDS)
    throw invalid(`cw: with a category, your own words must be at most ${MAX_WARNING_WORDS} characters`, {
      cw: `must be at most ${MAX_WARNING_WORDS} characters with a category`,
    });
  return { cw: own ? `${category.label}: ${own}` : category.label, sensitive: true };
}
