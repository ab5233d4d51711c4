// Markdown for local text, sanitizing for every piece of HTML we show or send.

import { decodeHTML } from "entities";
import MarkdownIt from "markdown-it";
import sanitize from "sanitize-html";

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });

// A hashtag: '#' after start or a non-word character, then a letter-led word
// (so "#1" or "C#" are not tags). Unicode letters allowed, as on Mastodon.
const HASHTAG = /(^|[^\p{L}\p{N}_&/#])#([\p{L}_][\p{L}\p{N}_]{0,63})/gu;

// A mention: @name or @name@host, after start or a non-word character.
const MENTION =
  /(^|[^\p{L}\p{N}_/@])@([a-z0-9_](?:[a-z0-9_.-]{0,62}[a-z0-9_])?)(?:@([a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d+)?))?/giu;

export interface MentionRef {
  username: string;
  /** Null for a local name. */
  host: string | null;
}

type CoreState = Parameters<Parameters<typeof md.core.ruler.push>[1]>[0];
type Token = NonNullable<CoreState["tokens"][number]["children"]>[number];
interface Env {
  origin?: string;
  tags?: string[];
  mentions?: MentionRef[];
}

/**
 * A core rule that replaces matches of `pattern` in plain text (never in code
 * or inside links) with the tokens `render` makes. The pattern's first group
 * is the character before the match, which stays text.
 */
function textRule(name: string, pattern: RegExp, render: (m: RegExpMatchArray, state: CoreState, env: Env) => Token[]) {
  md.core.ruler.push(name, (state) => {
    const env = state.env as Env;
    for (const block of state.tokens) {
      if (block.type !== "inline" || !block.children) continue;
      const out: Token[] = [];
      let insideLink = 0;
      for (const token of block.children) {
        if (token.type === "link_open") insideLink++;
        if (token.type === "link_close") insideLink--;
        if (token.type !== "text" || insideLink > 0) {
          out.push(token);
          continue;
        }
        let last = 0;
        const text = token.content;
        for (const m of text.matchAll(pattern)) {
          const start = m.index + (m[1] ?? "").length;
          if (start > last) out.push(textToken(state, text.slice(last, start)));
          out.push(...render(m, state, env));
          last = m.index + m[0].length;
        }
        if (last === 0) out.push(token);
        else if (last < text.length) out.push(textToken(state, text.slice(last)));
      }
      block.children = out;
    }
  });
}

// Hashtags link to the tag page.
textRule("hashtags", HASHTAG, (m, state, env) => {
  const tag = m[2] ?? "";
  env.tags?.push(tag.toLowerCase());
  const open = new state.Token("link_open", "a", 1);
  open.attrs = [
    ["href", `${env.origin ?? ""}/tags/${encodeURIComponent(tag.toLowerCase())}`],
    ["class", "hashtag"],
    ["rel", "tag"],
  ];
  return [open, textToken(state, `#${tag}`), new state.Token("link_close", "a", -1)];
});

// Mentions become Mastodon-style h-card links (the Mention tags that travel
// with the post are what other servers act on).
textRule("mentions", MENTION, (m, state, env) => {
  const username = m[2] ?? "";
  const host = m[3] ?? null;
  env.mentions?.push({ username, host: host?.toLowerCase() ?? null });
  const handle = host ? `${username}@${host}` : username;
  const span = new state.Token("html_inline", "", 0);
  const href = `${env.origin ?? ""}/@${encodeURI(handle)}`;
  const name = md.utils.escapeHtml(username);
  span.content = `<span class="h-card"><a href="${href}" class="u-url mention">@<span>${name}</span></a></span>`;
  return [span];
});

function textToken(state: CoreState, content: string): Token {
  const t = new state.Token("text", "", 0);
  t.content = content;
  return t;
}

const allowed: sanitize.IOptions = {
  allowedTags: [
    "p",
    "br",
    "hr",
    "a",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "span",
    "sup",
    "sub",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
  ],
  allowedAttributes: {
    a: ["href", "rel", "class", "title"],
    span: ["class"],
    ol: ["start"],
    code: ["class"],
    th: ["align"],
    td: ["align"],
  },
  // Keep only classes fediverse software uses for mentions, hashtags and
  // invisible URL parts; drop everything else that could style or script.
  allowedClasses: {
    a: ["mention", "hashtag", "u-url", "status-link", "unhandled-link"],
    span: ["h-card", "invisible", "ellipsis"],
    code: [/^language-[\w-]+$/],
  },
  allowedSchemes: ["http", "https", "mailto"],
  allowProtocolRelative: false,
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: { ...attribs, rel: mergeRel(attribs.rel) },
    }),
  },
};

function mergeRel(rel: string | undefined): string {
  const parts = new Set((rel ?? "").split(/\s+/).filter(Boolean));
  for (const r of ["nofollow", "noopener", "noreferrer"]) parts.add(r);
  return [...parts].join(" ");
}

/** Sanitizes HTML from anywhere (remote servers, our own renderer) to a safe subset. */
export function sanitizeHtml(html: string): string {
  return sanitize(html, allowed);
}

/**
 * Renders Markdown to sanitized HTML. Links the renderer makes (hashtags) are
 * absolute under `origin`, because the HTML also travels to other servers.
 */
export function renderMarkdown(source: string, origin = ""): string {
  return sanitizeHtml(md.render(source, { origin }));
}

/** Hashtags in a Markdown source, lower-cased and de-duplicated (code and link text excluded). */
export function extractHashtags(source: string): string[] {
  const env: { tags: string[] } = { tags: [] };
  md.parse(source, env);
  return [...new Set(env.tags)];
}

/**
 * Plain text of HTML (remote titles, names, content warnings), entities
 * decoded: it is stored as text and escaped once, when a page renders it.
 */
export function htmlToText(html: string): string {
  return decodeHTML(sanitize(html, { allowedTags: [], allowedAttributes: {} }))
    .replace(/\s+/g, " ")
    .trim();
}

/** Mentions in a Markdown source (code and link text excluded), de-duplicated. */
export function extractMentions(source: string): MentionRef[] {
  const env: { mentions: MentionRef[] } = { mentions: [] };
  md.parse(source, env);
  const seen = new Map<string, MentionRef>();
  for (const m of env.mentions) seen.set(`${m.username.toLowerCase()}@${m.host ?? ""}`, m);
  return [...seen.values()];
}
