import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../errors.ts";

const statusOf: Record<ErrorCode, ContentfulStatusCode> = {
  invalid: 422,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
};

/** The one mapping from domain error codes to HTTP statuses. */
export const httpStatus = (code: ErrorCode): ContentfulStatusCode => statusOf[code];
