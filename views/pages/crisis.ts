import { html } from "hono/html";
import { csrfField, formErrors, type Html, hint, layout, type PageContext, richText } from "../layout.ts";

export interface CrisisLanguageView {
  locale: string;
  notice: string;
  keywords: string;
}

/** The crisis resources as a reader sees them: the instance's notice, then the community's lines. */
export function crisisBox(noticeHtml: string, additionHtml: string): Html {
  return html`<aside class="crisis" role="note" aria-label="Support in a crisis">
${richText(noticeHtml)}${additionHtml ? richText(additionHtml) : ""}
</aside>`;
}

export function crisisAdminPage(
  page: PageContext,
  languages: CrisisLanguageView[],
  state: { saved?: boolean; message?: string } = {},
): Html {
  const block = (l: CrisisLanguageView, i: number) => html`<fieldset class="stack">
  <legend>${l.locale ? `Language: ${l.locale}` : "Add a language"}</legend>
  <label for="locale_${i}">Language tag ${hint("en, de, pt-br… leave empty to remove")}</label>
  <input id="locale_${i}" name="locale_${i}" maxlength="12" value="${l.locale}">
  <label for="notice_${i}">Notice ${hint("Markdown: say whom to call; links are shown as written")}</label>
  <textarea id="notice_${i}" name="notice_${i}" rows="6" maxlength="5000">${l.notice}</textarea>
  <label for="keywords_${i}">Crisis keywords ${hint("one word or phrase per line, matched as whole words")}</label>
  <textarea id="keywords_${i}" name="keywords_${i}" rows="6" maxlength="10000">${l.keywords}</textarea>
</fieldset>`;
  return layout(
    page,
    "Crisis resources",
    html`<h1>Crisis resources</h1>
<p><a href="/admin">Instance settings</a></p>
<p>The notice shows on threads whose content warning category asks for it, and to an author whose draft holds one
of the keywords of its language, before posting (they can post anyway). Readers get the language their browser
asks for; the first language here is the fallback. Nothing is sent to anyone outside this server.</p>
${state.saved ? html`<div class="notice" role="status">Saved.</div>` : ""}
${formErrors(state.message)}
<form method="post" action="/admin/crisis" class="stack">
  ${csrfField(page.csrf)}
  ${[...languages, { locale: "", notice: "", keywords: "" }].map(block)}
  <button type="submit">Save</button>
</form>`,
  );
}

/** Before a post with crisis keywords goes out: the notice, the draft kept, and the choice to post anyway. */
export function crisisInterstitial(
  page: PageContext,
  v: {
    noticeHtml: string;
    additionHtml: string;
    action: string;
    fields: Record<string, string>;
    back: string;
    imagesDropped: boolean;
  },
): Html {
  return layout(
    page,
    "Before you post",
    html`<h1>Before you post</h1>
${crisisBox(v.noticeHtml, v.additionHtml)}
<p>Nothing has been posted yet; what you wrote is kept.</p>
${
  v.imagesDropped
    ? html`<p class="notice">Images can't be kept through this page: attach them again if you go back.</p>`
    : ""
}
<form method="post" action="${v.action}" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  ${Object.entries(v.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
  <input type="hidden" name="crisisSeen" value="1">
  <button type="submit">Post it</button>
</form>
<p><a href="${v.back}">Go back without posting</a></p>`,
  );
}
