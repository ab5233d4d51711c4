// What stands between a composer and a new post, beyond the form's own checks
// (issue 13): the author's hourly share, the community's warning categories,
// and the crisis notice when the draft holds a crisis keyword. Shared by new
// threads and replies.
import { crisisInterstitial } from "../../views/pages/crisis.ts";
import { assertMayPost, type PostingKind } from "../accounts/posting-limits.ts";
import { renderMarkdown } from "../content/markdown.ts";
import { logger } from "../logging.ts";
import { fileAutomaticReport } from "../moderation/reports.ts";
import { type ChosenWarning, chooseWarning, crisisOptionsOf } from "../warnings/service.ts";
import { pageContext, type WebContext } from "../web/env.ts";
import { acceptedLanguages, crisisSettings, matchesKeywords, pickLanguage } from "./service.ts";

const log = logger("crisis");

export interface Draft {
  communityId: string;
  kind: Extract<PostingKind, "thread" | "reply">;
  /** Title and body, as typed. */
  text: string;
  /** The form's fields, carried through the notice when the author posts anyway. */
  fields: Record<string, string>;
  /** Where the form posts, and where "go back" leads. */
  action: string;
  back: string;
  /** Files can't ride through the notice: the author is told to attach them again. */
  hasImages: boolean;
}

export type Gate = { notice: Response } | { warning: ChosenWarning; crisis: boolean };

export async function beforePosting(c: WebContext, authorId: string, draft: Draft): Promise<Gate> {
  const app = c.get("app");
  if (app.config.postingLimits) await assertMayPost(app.db, authorId, draft.kind);
  const warning = await chooseWarning(app.db, draft.communityId, {
    categoryId: draft.fields.warning || null,
    words: draft.fields.cw,
    reply: draft.kind === "reply",
  });
  const settings = await crisisSettings(app.db);
  const language = pickLanguage(settings, [
    draft.fields.language ?? "",
    ...acceptedLanguages(c.req.header("accept-language")),
  ]);
  const crisis = matchesKeywords(draft.text, language.keywords);
  if (!crisis || draft.fields.crisisSeen === "1") return { warning, crisis };
  const options = await crisisOptionsOf(app.db, draft.communityId);
  const { _csrf, crisisSeen, ...fields } = draft.fields;
  const page = crisisInterstitial(pageContext(c), {
    noticeHtml: renderMarkdown(language.notice, app.config.origin),
    additionHtml: options.addition ? renderMarkdown(options.addition, app.config.origin) : "",
    action: draft.action,
    fields,
    back: draft.back,
    imagesDropped: draft.hasImages,
  });
  return { notice: await c.html(page, 200) };
}

/** After a post that matched the crisis keywords: the community's moderators are told, if it asked. */
export async function afterPosting(c: WebContext, communityId: string, postId: string, crisis: boolean): Promise<void> {
  if (!crisis) return;
  const app = c.get("app");
  if (!(await crisisOptionsOf(app.db, communityId)).alert) return;
  await fileAutomaticReport(app.db, app.config.origin, {
    postId,
    category: "self_harm",
    comment:
      "Filed automatically: this post holds one of the instance's crisis keywords. " +
      "Its author was shown the crisis resources before posting.",
  });
  // Not at info: that a post touched on self-harm is health data too.
  log.debug("crisis keywords in post {postId}: the moderators were told", { postId });
}
