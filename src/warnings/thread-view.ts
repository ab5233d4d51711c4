// What a thread page or a composer needs of the warning categories: the
// choices the composer offers, which posts the reader wants expanded, and the
// crisis resources when the thread's category asks for them.
import type { ExpressionBuilder } from "kysely";
import type { Database, Db } from "../../db/schema.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { acceptedLanguages, crisisSettings, pickLanguage } from "../crisis/service.ts";
import { crisisOptionsOf, listCategories, requirementOf, type WarningCategory, warningChoices } from "./service.ts";

export interface ComposerWarnings {
  categories: WarningCategory[];
  /** A category must be chosen on a new thread / on a reply. */
  requiredOnThreads: boolean;
  requiredOnReplies: boolean;
}

export async function composerWarnings(db: Db, communityId: string): Promise<ComposerWarnings> {
  const required = await requirementOf(db, communityId);
  return {
    categories: await listCategories(db, communityId),
    requiredOnThreads: required !== "never",
    requiredOnReplies: required === "all",
  };
}

/** Posts the reader chose to see expanded (by their category). */
export async function expandedFor(
  db: Db,
  viewerId: string | undefined,
  posts: { id: string; warningCategoryId: string | null }[],
): Promise<Set<string>> {
  const choices = await warningChoices(db, viewerId);
  return new Set(
    posts.filter((p) => p.warningCategoryId && choices.get(p.warningCategoryId) === "expand").map((p) => p.id),
  );
}

/** The crisis resources for a thread whose own category asks for them, in the reader's language. */
export async function crisisFor(
  db: Db,
  origin: string,
  thread: { communityId: string | null; warningCategoryId: string | null },
  acceptLanguage: string | undefined,
): Promise<{ noticeHtml: string; additionHtml: string } | null> {
  if (!thread.warningCategoryId || !thread.communityId) return null;
  const category = await db
    .selectFrom("warning_categories")
    .select("crisis")
    .where("id", "=", thread.warningCategoryId)
    .executeTakeFirst();
  if (category?.crisis !== 1) return null;
  const language = pickLanguage(await crisisSettings(db), acceptedLanguages(acceptLanguage));
  const { addition } = await crisisOptionsOf(db, thread.communityId);
  return {
    noticeHtml: renderMarkdown(language.notice, origin),
    additionHtml: addition ? renderMarkdown(addition, origin) : "",
  };
}

/** Lists leave out posts of a category the reader chose to hide. */
export function notHiddenByWarning(viewerId: string) {
  return (eb: ExpressionBuilder<Database, "posts">) =>
    eb.or([
      eb("posts.warning_category_id", "is", null),
      eb.not(
        eb.exists(
          eb
            .selectFrom("warning_preferences as wp")
            .select("wp.category_id")
            .where("wp.user_id", "=", viewerId)
            .where("wp.choice", "=", "hide")
            .whereRef("wp.category_id", "=", "posts.warning_category_id"),
        ),
      ),
    ]);
}
