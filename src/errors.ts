// One error contract for the domain: routes and the CLI map these codes to an
// HTTP status or an exit message; anything else is a bug (500 / stack trace).
import type { z } from "zod";

export type ErrorCode =
  | "invalid" // 422: input fails validation
  | "bad_request" // 400: malformed request (e.g. missing CSRF token)
  | "unauthorized" // 401: must log in
  | "forbidden" // 403: logged in but not allowed
  | "not_found" // 404
  | "conflict" // 409: taken name, duplicate
  | "too_large" // 413
  | "rate_limited"; // 429

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** Per-field reasons, for forms. */
  readonly fields: Record<string, string>;
  constructor(code: ErrorCode, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.fields = fields;
  }
}

export const invalid = (message: string, fields: Record<string, string> = {}) =>
  new DomainError("invalid", message, fields);
export const notFound = (what: string) => new DomainError("not_found", `${what} not found`);
export const forbidden = (message: string) => new DomainError("forbidden", message);
export const conflict = (message: string, fields: Record<string, string> = {}) =>
  new DomainError("conflict", message, fields);

/** Parses input with a zod schema, turning failures into one `invalid` error naming every field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join(".") || "input";
    fields[key] ??= issue.message;
  }
  const summary = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join("; ");
  return (() => {
    throw invalid(summary, fields);
  })();
}
