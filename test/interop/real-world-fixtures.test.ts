// Every real-world payload in ../shared/fixtures/real-world (124 documents from
// 14 fediverse servers, collected by the Lemmy project) goes through Fedify's
// parser the way Kindred's inbox parses what it receives, fully offline: the
// document loader serves Fedify's preloaded contexts (plus two stand-ins in
// test/fixtures/contexts/) and fails on any other URL. For the activity types
// Kindred handles, the object's type and id must come out; for posts, the
// values Kindred stores (title, content, url); for actors, what it keeps of
// remote people and communities.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { DocumentLoader } from "@fedify/fedify";
import { preloadedContexts } from "@fedify/fedify/runtime";
import {
  Activity,
  Object as ApObject,
  Article,
  Collection,
  getTypeId,
  isActor,
  Note,
  Page,
} from "@fedify/fedify/vocab";
import { describe, expect, it } from "vitest";
import { postValues } from "../../federation/remote.ts";
import { withKeyContext } from "../../federation/wire.ts";
import { htmlToText } from "../../src/content/markdown.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const folder = join(root, "..", "shared", "fixtures", "real-world");
const contexts = join(root, "test", "fixtures", "contexts");

/** Activity types Kindred's inbox has listeners for (federation/inbox/index.ts). */
const HANDLED = new Set(["Follow", "Accept", "Reject", "Undo", "Create", "Announce", "Like", "Update", "Delete"]);
const ACTOR_TYPES = new Set(["Person", "Group", "Application", "Service", "Organization"]);
const POST_TYPES = new Set(["Note", "Page", "Article"]);
const AS = "https://www.w3.org/ns/activitystreams#";

/** URLs fetched (or attempted) while parsing; must stay within the offline set. */
const attempted: string[] = [];
const standIns: Record<string, unknown> = {};
function standIn(url: string): unknown {
  const file = /\/schemas\/litepub-0\.1\.jsonld$/.test(url)
    ? "litepub-0.1.jsonld"
    : url === "https://fedia.io/contexts"
      ? "mbin-contexts.jsonld"
      : undefined;
  if (!file) return undefined;
  standIns[file] ??= JSON.parse(readFileSync(join(contexts, file), "utf8"));
  return standIns[file];
}
const offline: DocumentLoader = async (url) => {
  const document = preloadedContexts[url] ?? standIn(url);
  if (document === undefined) {
    attempted.push(url);
    throw new Error(`the offline document loader refuses ${url}`);
  }
  return { contextUrl: null, documentUrl: url, document };
};
const options = { documentLoader: offline, contextLoader: offline };

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? jsonFiles(path) : name.endsWith(".json") ? [path] : [];
    })
    .sort();
}

/**
 * The document as its server sends it. The Lemmy project strips `@context`
 * from its test assets; Lemmy itself sends this one with every document.
 */
function load(path: string): Record<string, any> {
  const doc = JSON.parse(readFileSync(path, "utf8")) as Record<string, any>;
  if (doc["@context"] === undefined)
    doc["@context"] = ["https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"];
  return doc;
}

const iri = (v: unknown): string | undefined => {
  const id = typeof v === "string" ? v : v && typeof v === "object" ? (v as { id?: unknown }).id : undefined;
  return typeof id === "string" ? new URL(id).href : undefined;
};
/** The local name of an object's type (`Note`, `ChatMessage`…); `Object`/`Activity` for types Fedify does not model. */
const typeName = (o: ApObject) => getTypeId(o).href.split(/[#/]/).pop()!;
const generic = (o: ApObject) => [`${AS}Object`, `${AS}Activity`].includes(getTypeId(o).href);

/** What Kindred keeps of a post: checked against the raw JSON. */
async function checkPost(object: ApObject, raw: Record<string, any>) {
  expect(
    object instanceof Note || object instanceof Page || object instanceof Article,
    `${raw.type} parses as a post object`,
  ).toBe(true);
  const values = await postValues(object as Note | Page | Article);
  expect(values.type).toBe(raw.type);
  if (typeof raw.name === "string" && raw.type !== "Note")
    expect(values.title).toBe(htmlToText(raw.name).slice(0, 200));
  if (typeof raw.content === "string" && htmlToText(raw.content) !== "")
    expect(htmlToText(values.contentHtml), "content survives sanitizing").not.toBe("");
  expect(values.url).toBeTruthy();
  if (typeof raw.attributedTo === "string")
    expect((object as Note).attributionId?.href).toBe(new URL(raw.attributedTo).href);
  if (typeof raw.inReplyTo === "string") expect((object as Note).replyTargetId?.href).toBe(new URL(raw.inReplyTo).href);
  if (typeof raw.audience === "string")
    expect((object as Note).audienceIds.map((u) => u.href)).toContain(new URL(raw.audience).href);
}

/** The embedded object of `activity` (if embedded, with a type), parsed and checked; recursing into Announce(Create(…)). */
async function checkEmbedded(activity: Activity, raw: Record<string, any>) {
  const inner = raw.object;
  if (!inner || typeof inner !== "object" || Array.isArray(inner) || typeof inner.type !== "string") return;
  const object = await activity.getObject({ ...options, crossOrigin: "trust" });
  expect(object, `embedded ${inner.type} of ${raw.type}`).not.toBeNull();
  if (inner.id !== undefined) expect(object!.id?.href).toBe(iri(inner));
  // Types Fedify does not model (Lemmy's Lock, Warn…) come out as plain Objects/Activities.
  if (!generic(object!)) expect(typeName(object!)).toBe(inner.type);
  if (POST_TYPES.has(inner.type)) await checkPost(object!, inner);
  if (object instanceof Activity && HANDLED.has(inner.type)) {
    if (typeof inner.actor === "string") expect(object.actorId?.href).toBe(iri(inner.actor));
    expect(object.objectId?.href).toBe(iri(inner.object));
    await checkEmbedded(object, inner);
  }
}

// The shared folder lives next to the project in CI; a fresh clone may not
// have it. Then these tests skip (they never fail for that reason).
const present = existsSync(folder);
if (!present)
  console.warn(`real-world fixtures not found at ${folder}: skipping test/interop/real-world-fixtures.test.ts`);

describe.skipIf(!present)("real-world payloads parse offline through Fedify", () => {
  const files = present ? jsonFiles(folder) : [];

  it("finds the whole collection", () => {
    expect(files.length).toBeGreaterThanOrEqual(120);
  });

  it.each(files.map((f) => [relative(folder, f), f]))("%s", async (_name, path) => {
    const raw = load(path);
    const isActivity = HANDLED.has(raw.type) || (path.includes("/activities/") && raw.type !== "Note");
    const parsed = isActivity ? await Activity.fromJsonLd(raw, options) : await ApObject.fromJsonLd(raw, options);
    expect(parsed.id?.href).toBe(iri(raw.id));
    if (!generic(parsed)) expect(typeName(parsed)).toBe(raw.type);

    if (HANDLED.has(raw.type)) {
      const activity = parsed as Activity;
      expect(activity).toBeInstanceOf(Activity);
      expect(activity.actorId?.href).toBe(iri(raw.actor));
      expect(activity.objectId?.href, "the object's id").toBe(
        iri(Array.isArray(raw.object) ? raw.object[0] : raw.object),
      );
      await checkEmbedded(activity, raw);
    } else if (POST_TYPES.has(raw.type)) {
      await checkPost(parsed, raw);
    } else if (ACTOR_TYPES.has(raw.type)) {
      expect(isActor(parsed)).toBe(true);
      const actor = parsed as ApObject & {
        inboxId: URL | null;
        preferredUsername: unknown;
        endpoints: { sharedInbox: URL | null } | null;
        getPublicKey(o?: unknown): Promise<{ id: URL | null } | null>;
      };
      expect(actor.inboxId?.href).toBe(iri(raw.inbox));
      if (raw.preferredUsername !== undefined) expect(String(actor.preferredUsername)).toBe(raw.preferredUsername);
      if (raw.endpoints?.sharedInbox) expect(actor.endpoints?.sharedInbox?.href).toBe(iri(raw.endpoints.sharedInbox));
    } else if (/Collection$/.test(raw.type)) {
      expect(parsed).toBeInstanceOf(Collection);
      if (typeof raw.totalItems === "number") expect((parsed as Collection).totalItems).toBe(raw.totalItems);
    }
    expect(attempted, "no network access").toEqual([]);
  });

  // Kindred verifies a server's deliveries with the key in its actor document
  // (Fedify's fetchKey parses it like this). Fedify reads `publicKey` only
  // where the @context defines it (the security vocabulary); a document that
  // omits that context loses its key, and every signed delivery from that
  // server is refused with 401.
  const actorFiles = files.filter((f) => {
    const raw = load(f);
    return ACTOR_TYPES.has(raw.type) && raw.publicKey?.id;
  });
  it.each(actorFiles.map((f) => [relative(folder, f), f]))(
    "%s: the actor's public key is readable for signature checks",
    async (_name, path) => {
      // Actor documents reach Fedify through our loaders, which add the security
      // context where a `publicKey` needs it (Discourse omits it).
      const raw = withKeyContext(load(path)) as ReturnType<typeof load>;
      const actor = (await ApObject.fromJsonLd(raw, options)) as ApObject & {
        getPublicKey(o?: unknown): Promise<{ id: URL | null; ownerId: URL | null } | null>;
      };
      const key = await actor.getPublicKey(options);
      expect(
        key?.id?.href,
        `publicKey of ${raw.type} ${raw.id} (context: ${JSON.stringify(raw["@context"]).slice(0, 80)})`,
      ).toBe(iri(raw.publicKey.id));
      expect(attempted, "no network access").toEqual([]);
    },
  );
});
