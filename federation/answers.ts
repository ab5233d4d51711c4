// Questions and marked answers on the wire, in our own JSON-LD namespace (no
// fediverse software has terms for them). A question is a thread's `Page`
// with `kindred:question: true`, listing its marked replies' IRIs in
// `kindred:acceptedAnswers` and `kindred:clinicianAnswers`; the replies stay
// plain `Note`s. Software that does not know the terms ignores them. Another
// Kindred believes them only from the thread's own server: from the `Page`
// itself (its id, author and sender on one origin), never from a reply or a
// third server. See FEDERATION.md.
import type { Context } from "@fedify/fedify";
import { Page } from "@fedify/fedify/vocab";
import type { Db } from "../db/schema.ts";
import {
  answersForFederation,
  isQuestion,
  MARKS_MAX,
  markOnArrival,
  type PublishedAnswers,
  receiveAnswers,
} from "../src/answers/service.ts";
import type { AppContext } from "../src/context.ts";
import { originOf } from "./wire.ts";

/** Our namespace. Terms: `question` (boolean), `acceptedAnswers` and `clinicianAnswers` (lists of reply IRIs). */
export const KINDRED_NS = "https://w3id.org/kindred#";
const PREFIX = "kindred";

/** The terms of a question, added to the JSON of its `Page` (the context gains our prefix). */
export function withAnswerTerms(json: Record<string, unknown>, a: PublishedAnswers): Record<string, unknown> {
  if (!a.question) return json;
  return { ...withPrefix(json), ...answerTerms(a) };
}

const answerTerms = (a: PublishedAnswers) => ({
  [`${PREFIX}:question`]: true,
  [`${PREFIX}:acceptedAnswers`]: a.accepted,
  [`${PREFIX}:clinicianAnswers`]: a.clinician,
});

/** A document whose context binds our prefix (appended as an inline context: nothing is ever fetched). */
function withPrefix(json: Record<string, unknown>): Record<string, unknown> {
  const context = json["@context"];
  const list = Array.isArray(context) ? [...context] : context === undefined ? [] : [context];
  if (list.some((c) => c && typeof c === "object" && (c as Record<string, unknown>)[PREFIX] === KINDRED_NS))
    return json;
  return { ...json, "@context": [...list, { [PREFIX]: KINDRED_NS }] };
}

/** A local thread's `Page` as we serve it: with its question terms, kept through Fedify's serialization. */
export async function servedQuestion(ctx: Context<AppContext>, page: Page, postId: string): Promise<Page> {
  const a = await answersForFederation(ctx.data.db, postId);
  if (!a.question) return page;
  const json = (await page.toJsonLd({ contextLoader: ctx.contextLoader })) as Record<string, unknown>;
  // An object read from JSON-LD is served as that JSON (Fedify's cache), so our terms stay in it.
  return Page.fromJsonLd(withAnswerTerms(json, a), {
    contextLoader: ctx.contextLoader,
    documentLoader: ctx.documentLoader,
  });
}

/**
 * Adds the question terms to each `Page` of ours an outgoing activity embeds
 * (a `Create`, an `Update`, a community's `Announce` of either or of the
 * `Page`). Null when nothing needed it.
 */
export async function withPublishedAnswers(
  db: Db,
  activity: Record<string, unknown>,
  origin: string,
): Promise<Record<string, unknown> | null> {
  let added = false;
  const visit = async (node: unknown, depth: number): Promise<unknown> => {
    if (!node || typeof node !== "object" || Array.isArray(node) || depth > 3) return node;
    const o = node as Record<string, unknown>;
    if (o.type === "Page" && typeof o.id === "string" && originOf(o.id) === originOf(origin)) {
      const post = await db
        .selectFrom("posts")
        .select("id")
        .where("iri", "=", o.id)
        .where("local", "=", 1)
        .executeTakeFirst();
      const a = post ? await answersForFederation(db, post.id) : null;
      if (!a?.question) return node;
      added = true;
      return { ...o, ...answerTerms(a) };
    }
    const inner = await visit(o.object, depth + 1);
    return inner === o.object ? node : { ...o, object: inner };
  };
  const out = (await visit(activity, 0)) as Record<string, unknown>;
  return added ? withPrefix(out) : null;
}

/**
 * Reads the question terms of a `Page` as received: compact JSON (as served,
 * with our prefix or under any prefix its context binds to our namespace) or
 * expanded JSON-LD (Fedify's copy of an object embedded in an activity).
 */
export function readAnswerTerms(json: unknown): PublishedAnswers {
  const none: PublishedAnswers = { question: false, accepted: [], clinician: [] };
  if (!json || typeof json !== "object" || Array.isArray(json)) return none;
  const doc = json as Record<string, unknown>;
  const prefixes = prefixesOf(doc["@context"]);
  const get = (term: string): unknown[] => {
    for (const key of [`${KINDRED_NS}${term}`, ...prefixes.map((p) => `${p}:${term}`)])
      if (key in doc) return flatten(doc[key]);
    return [];
  };
  if (!get("question").some((v) => v === true || v === "true")) return none;
  const iris = (term: string) =>
    [
      ...new Set(
        get(term).filter((v): v is string => typeof v === "string" && v.length <= 2048 && originOf(v) !== null),
      ),
    ].slice(0, MARKS_MAX);
  return { question: true, accepted: iris("acceptedAnswers"), clinician: iris("clinicianAnswers") };
}

/** The prefixes a context binds to our namespace. */
function prefixesOf(context: unknown): string[] {
  const list = Array.isArray(context) ? context : [context];
  const out: string[] = [];
  for (const c of list) {
    if (!c || typeof c !== "object") continue;
    for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
      const iri = typeof v === "string" ? v : v && typeof v === "object" ? (v as { "@id"?: unknown })["@id"] : null;
      if (iri === KINDRED_NS && !k.includes(":")) out.push(k);
    }
  }
  return out;
}

/** Values of a property: plain, in a list, or JSON-LD value and node objects. */
function flatten(value: unknown): unknown[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if ("@value" in o) return [o["@value"]];
      if (typeof o["@id"] === "string") return [o["@id"]];
      if (typeof o.id === "string") return [o.id];
      return [];
    }
    return [v];
  });
}

/**
 * The JSON of `object` as its sender wrote it: Fedify's copy of a document it
 * parsed (fetched, or delivered at the top), else the node with its id in one
 * of the documents it arrived in (`raw`: an activity as received), under the
 * nearest `@context`. Undefined when neither holds it (an object re-serialized
 * by Fedify has lost our terms: its marks are then left as they are).
 */
function originalJson(object: { id: URL | null }, raw: unknown[]): Record<string, unknown> | undefined {
  const id = object.id?.href;
  if (!id) return undefined;
  // Fedify keeps the JSON it parsed an object from (not that of an object embedded in another).
  const cached = (object as { _cachedJsonLd?: unknown })._cachedJsonLd;
  const own = nodeWithId(cached, id, undefined, 0);
  if (own) return own;
  for (const document of raw) {
    const found = nodeWithId(document, id, undefined, 0);
    if (found) return found;
  }
  return undefined;
}

function nodeWithId(node: unknown, id: string, context: unknown, depth: number): Record<string, unknown> | undefined {
  if (!node || typeof node !== "object" || Array.isArray(node) || depth > 3) return undefined;
  const o = node as Record<string, unknown>;
  const ctx = o["@context"] ?? context;
  if (o.id === id || o["@id"] === id) return ctx === undefined ? o : { ...o, "@context": ctx };
  return nodeWithId(o.object, id, ctx, depth + 1);
}

/**
 * A received post: a thread's `Page` brings its question and marks (which
 * replace ours), a reply takes the mark its question's server published for
 * it. The caller has checked that the `Page` is its own server's word (its
 * id, author and sender on one origin). `raw`: the activities it arrived in,
 * as received.
 */
export async function takeAnswers(
  ctx: Context<AppContext>,
  object: { id: URL | null; replyTargetId: URL | null },
  postId: string | null,
  raw: unknown[] = [],
  /** The post was held already: a late copy of its creation may only add what we lack, never undo newer marks. */
  held = false,
): Promise<void> {
  if (!object.id) return;
  // A reply's own words about marks are never believed: it takes the mark its question published, on arrival.
  if (object.replyTargetId) return postId ? markOnArrival(ctx.data.db, postId) : undefined;
  const original = originalJson(object, raw);
  if (!original) return;
  const published = readAnswerTerms(original);
  if (held && (!published.question || (await isQuestion(ctx.data.db, postId ?? "")))) return;
  await receiveAnswers(ctx.data.db, object.id.href, published);
}
