// What raw JSON says must be what JSON-LD processing will read. Our checks
// (the inbox gate, the key owners bound in documents.ts) read a document as
// plain JSON, while Fedify reads it expanded: an inline context that renames
// `actor`, aliases a new name to `as:actor` or `@id`, or a key written as
// `as:actor`, would make the two disagree. Such documents are refused. What
// servers really send (new terms for their own extensions, class names such
// as Misskey's `Key`) passes: every one of the 124 captured real payloads does.
import { preloadedContexts } from "@fedify/fedify/runtime";

const PROTECTING = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  "https://w3id.org/security/data-integrity/v1",
  "https://w3id.org/security/data-integrity/v2",
  "https://w3id.org/security/multikey/v1",
];
/** The terms whose meaning decides authorship, addressing and keys. */
const GUARDED = new Set([
  "id",
  "type",
  "actor",
  "object",
  "target",
  "origin",
  "attributedTo",
  "to",
  "cc",
  "bto",
  "bcc",
  "audience",
  "inReplyTo",
  "owner",
  "controller",
  "publicKey",
  "publicKeyPem",
  "publicKeyMultibase",
  "assertionMethod",
  "signature",
  "signatureValue",
  "creator",
  "proof",
  "proofValue",
  "proofPurpose",
  "verificationMethod",
  "cryptosuite",
]);
/** Keywords an inline context may set; `@vocab`, `@base`, `@import` and the like could change what terms mean. */
const ALLOWED_KEYWORDS = new Set(["@language", "@version", "@direction", "@protected"]);

type Definitions = Record<string, unknown>;

const contextsOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The IRI a term definition maps to, with `prefixes` applied to a compact IRI. */
function iriOf(definition: unknown, prefixes: Map<string, string>): string | null {
  const raw =
    typeof definition === "string"
      ? definition
      : definition && typeof definition === "object"
        ? (definition as { "@id"?: unknown })["@id"]
        : null;
  if (typeof raw !== "string") return null;
  if (raw.startsWith("@")) return raw;
  const colon = raw.indexOf(":");
  const prefix = colon > 0 ? prefixes.get(raw.slice(0, colon)) : undefined;
  return prefix !== undefined ? prefix + raw.slice(colon + 1) : raw;
}

function buildProtected() {
  const terms = new Map<string, string>();
  const prefixes = new Map<string, string>();
  const known = preloadedContexts as Record<string, { "@context"?: unknown }>;
  const all: Definitions[] = PROTECTING.flatMap((url) =>
    contextsOf(known[url]?.["@context"]).filter((c): c is Definitions => !!c && typeof c === "object"),
  );
  for (const defs of all)
    for (const [term, def] of Object.entries(defs))
      if (typeof def === "string" && /[:/#]$/.test(def)) prefixes.set(term, def);
  for (const defs of all)
    for (const [term, def] of Object.entries(defs)) {
      const iri = iriOf(def, prefixes);
      if (!term.startsWith("@") && iri) terms.set(term, iri);
    }
  // Only the terms that say who did what, to whom, and with which key: other terms (Mobilizon's `location`,
  // Mastodon's `EncryptedMessage`) may be redefined as servers do, without changing who speaks.
  for (const term of [...terms.keys()]) if (!GUARDED.has(term)) terms.delete(term);
  const properties = new Set(terms.values());
  return { terms, prefixes, properties };
}

const PROTECTED = buildProtected();

/** Why an inline context is refused, or null. */
function checkContext(defs: Definitions, depth: number): string | null {
  if (depth > 4) return "contexts nest too deeply";
  const prefixes = new Map(PROTECTED.prefixes);
  for (const [term, def] of Object.entries(defs))
    if (!PROTECTED.terms.has(term) && typeof def === "string" && /[:/#]$/.test(def)) prefixes.set(term, def);
  for (const [term, def] of Object.entries(defs)) {
    if (term.startsWith("@")) {
      if (!ALLOWED_KEYWORDS.has(term)) return `a context may not set ${term}`;
      continue;
    }
    const iri = iriOf(def, prefixes);
    const known = PROTECTED.terms.get(term);
    if (known !== undefined && iri !== known) return `a context may not redefine "${term}"`;
    if (known === undefined && iri !== null && (iri === "@id" || iri === "@type" || PROTECTED.properties.has(iri)))
      return `a context may not make "${term}" another name for ${iri}`;
    if (def && typeof def === "object") {
      if ("@reverse" in def) return `a context may not reverse "${term}"`;
      const scoped = (def as { "@context"?: unknown })["@context"];
      for (const c of contextsOf(scoped)) {
        if (c && typeof c === "object") {
          const why = checkContext(c as Definitions, depth + 1);
          if (why) return why;
        }
      }
    }
  }
  return null;
}

/**
 * Why `document` is refused (a context or a key that would change what a
 * protected term means), or null when plain JSON and JSON-LD agree on it.
 */
export function ambiguousTerms(document: unknown): string | null {
  const stack: unknown[] = [document];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (!node || typeof node !== "object") continue;
    for (const [key, value] of Object.entries(node)) {
      if (key === "@context") {
        for (const c of contextsOf(value)) {
          if (c && typeof c === "object") {
            const why = checkContext(c as Definitions, 0);
            if (why) return why;
          }
        }
        continue;
      }
      if (!key.startsWith("@") && key.includes(":")) {
        const iri = iriOf(key, PROTECTED.prefixes);
        if (iri && PROTECTED.properties.has(iri)) return `the key "${key}" is another name for a protected term`;
      }
      if (value && typeof value === "object") stack.push(value);
    }
  }
  return null;
}
