import type { BodyData } from "hono/utils/body";
import { DomainError } from "../errors.ts";
import type { WebContext } from "./env.ts";

/**
 * A submitted form's body, read once (Hono keeps it for the next reader). A
 * body that cannot be read as the form it claims to be (a multipart body
 * without a boundary, or cut short) is the client's mistake: 400, with why.
 */
export async function formBody(c: WebContext): Promise<BodyData> {
  try {
    return await c.req.parseBody({ all: false });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const type = c.req.header("content-type") ?? "";
    const why = /^multipart\/form-data/i.test(type)
      ? /;\s*boundary=/i.test(type)
        ? "its multipart body is malformed or cut short"
        : "it is multipart/form-data without a boundary"
      : "its body is malformed";
    throw new DomainError("bad_request", `the form could not be read: ${why}`);
  }
}

/** The string fields of a submitted form (files and the CSRF token left out). */
export async function formFields(c: WebContext): Promise<Record<string, string>> {
  const body = await formBody(c);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string" && k !== "_csrf") out[k] = v;
  // No field of ours takes a NUL, which PostgreSQL refuses in text: a clear 400, never a 500.
  if (Object.values(out).some((v) => v.includes("\0")))
    throw new DomainError("bad_request", "the form holds a NUL character");
  return out;
}

/** A same-site path to go back to after logging in; anything else goes home. */
export const safeNext = (next: string | undefined) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it refuses.
  next && /^\/(?![/\\])[^\s\x00-\x1f\\]*$/.test(next) ? next : "/";

/** `@name` route parameter (see AT) without the `@`. */
export const handleOf = (c: WebContext) => (c.req.param("at") ?? "").replace(/^@/, "");

/** Route segment matching `/@name` (Hono needs a regex to take a literal `@`). */
export const AT = "/:at{@[^/]+}";
