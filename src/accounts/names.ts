import { z } from "zod";

// One namespace for users and communities (WebFinger `acct:name@host`).
// Letters, digits, '_' and inner '-', as Mastodon's mention syntax accepts.
export const HANDLE = /^[a-z0-9_](?:[a-z0-9_-]{0,28}[a-z0-9_])?$/i;

/** Never available: the instance actor and the owner of anonymized posts. */
export const SYSTEM_NAMES = new Set(["instance", "anonymous"]);

/** Not available through public sign-up or community creation (an admin may still use them from the CLI). */
export const RESERVED_NAMES = new Set([
  "admin",
  "administrator",
  "root",
  "system",
  "support",
  "help",
  "mod",
  "moderator",
  "moderators",
  "staff",
  "kindred",
  "abuse",
  "security",
  "postmaster",
  "webmaster",
  "hostmaster",
  "noreply",
  "no-reply",
  "www",
  "api",
  "settings",
  "about",
  "login",
  "signup",
  "logout",
  "inbox",
  "outbox",
  "tags",
  "search",
]);

export const handleSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(30, "must be at most 30 characters")
  .regex(HANDLE, "may contain only letters, digits, '_' and '-' (not at the start or end)");
