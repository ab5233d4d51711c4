// Titles for threads that arrive without one: Mastodon, Misskey and Pleroma
// post into a community by mentioning it, as a `Note` with no `name`, and a
// list of "(untitled)" links tells a reader nothing.
import { htmlToText } from "../src/content/markdown.ts";

/** About as long as the titles people write on forums; longer ones are cut at a word. */
export const DERIVED_TITLE_LENGTH = 80;

/** Anchors that mention someone (Mastodon's `u-url mention`, or any link whose text starts with @), not hashtags. */
const MENTION_ANCHOR = /<a\b[^>]*>(?:(?!<\/a>)[\s\S])*<\/a>/gi;
const isMention = (anchor: string) => {
  const cls = /\bclass="([^"]*)"/i.exec(anchor)?.[1] ?? "";
  if (/\bhashtag\b/.test(cls)) return false;
  return /\bmention\b/.test(cls) || htmlToText(anchor).startsWith("@");
};
/** Where a line ends in HTML: the first line is the first paragraph, heading, list item or line break. */
const LINE_END = /<br\s*\/?>|<\/(?:p|h[1-6]|li|blockquote|pre|div)>/gi;

/**
 * A title from a post's (sanitized) HTML: its first line, or the first
 * sentence of it, without mentions (the community's included), hashtags kept
 * as words, cut at a word boundary near {@link DERIVED_TITLE_LENGTH}
 * characters with an ellipsis. Null when nothing readable is left (an image alone).
 */
export function titleFromContent(contentHtml: string): string | null {
  const withoutMentions = contentHtml.replace(MENTION_ANCHOR, (a) => (isMention(a) ? " " : a));
  for (const piece of withoutMentions.split(LINE_END)) {
    const line = htmlToText(piece)
      // Mentions written as text (servers that send plain text, or a handle typed without linking).
      .replace(/(^|\s)@[\p{L}\p{N}_.-]+(?:@[\p{L}\p{N}.-]+)?/gu, "$1")
      .replace(/(^|\s)#([\p{L}\p{N}_]+)/gu, "$1$2")
      .replace(/\s+/g, " ")
      .trim();
    if (!/[\p{L}\p{N}]/u.test(line)) continue;
    return shorten(firstSentence(line), DERIVED_TITLE_LENGTH);
  }
  return null;
}

/** Up to the first sentence's end (., ! or ? followed by a space); a full stop at the end is dropped. */
function firstSentence(line: string): string {
  const end = /[.!?…](?=\s)/u.exec(line);
  const sentence = end ? line.slice(0, end.index + 1) : line;
  return sentence.replace(/(?<!\.)\.$/, "");
}

/** `text` cut at the last word boundary within `max` characters, with an ellipsis when cut. */
export function shorten(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const head = chars.slice(0, max).join("");
  const cut = head.replace(/\s+\S*$/u, "");
  return `${(cut.length >= max / 2 ? cut : head).replace(/[\s,;:.–—-]+$/u, "")}…`;
}
