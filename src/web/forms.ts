import type { WebContext } from "./env.ts";

/** The string fields of a submitted form (files and the CSRF token left out). */
export async function formFields(c: WebContext): Promise<Record<string, string>> {
  const body = await c.req.parseBody({ all: false });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string" && k !== "_csrf") out[k] = v;
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
