// Shared pieces of the interop suites: waiting for Kindred's queue to settle,
// reading rows, and fetching Kindred's ActivityPub documents.
import type { TestInstance } from "../helpers/instance.ts";
import { waitFor } from "../helpers/peer.ts";

/**
 * Waits until Kindred's queue (inbound activities, domain events, outbound
 * deliveries) has nothing due and nothing in progress. Each stage enqueues
 * its follow-up before it removes its own row, so an idle queue means every
 * consequence of what was sent so far has happened (deliveries retried later
 * on purpose don't count: they are not due).
 */
export async function queueIdle(instance: TestInstance, timeoutMs = 10_000): Promise<void> {
  const db = instance.runtime.db;
  const busy = async () => {
    const now = new Date().toISOString();
    const rows = await db
      .selectFrom("fedify_queue")
      .select(["queue", "payload", "available_at", "lease_until"])
      .where((eb) => eb.or([eb("available_at", "<=", now), eb("lease_until", "is not", null)]))
      .execute();
    return rows;
  };
  // Two idle looks in a row: a message can be between "claimed" and "leased".
  let idleStreak = 0;
  await waitFor(
    async () => {
      idleStreak = (await busy()).length === 0 ? idleStreak + 1 : 0;
      return idleStreak >= 2;
    },
    {
      timeoutMs,
      label: "Kindred's queue to become idle",
      describe: async () => (await busy()).map((r) => ({ queue: r.queue, payload: r.payload.slice(0, 200) })),
    },
  );
}

/** GETs an ActivityPub document from Kindred. */
export async function getJson(
  url: string,
): Promise<{ status: number; contentType: string | null; body: any; raw: string }> {
  const res = await fetch(url, { headers: { accept: "application/activity+json" } });
  const raw = await res.text();
  let body: any;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), body, raw };
}

export function postByIri(instance: TestInstance, iri: string) {
  return instance.runtime.db.selectFrom("posts").selectAll().where("iri", "=", iri).executeTakeFirst();
}

export function actorByIri(instance: TestInstance, iri: string) {
  return instance.runtime.db.selectFrom("actors").selectAll().where("iri", "=", iri).executeTakeFirst();
}

/** The follow row from the remote actor `followerIri` to the local actor `followeeIri`. */
export async function followRow(instance: TestInstance, followerIri: string, followeeIri: string) {
  return instance.runtime.db
    .selectFrom("follows")
    .innerJoin("actors as follower", "follower.id", "follows.follower_id")
    .innerJoin("actors as followee", "followee.id", "follows.followee_id")
    .select(["follows.id", "follows.iri", "follows.status", "follows.accepted_at"])
    .where("follower.iri", "=", followerIri)
    .where("followee.iri", "=", followeeIri)
    .executeTakeFirst();
}

export async function likeCount(instance: TestInstance, postId: string): Promise<number> {
  const row = await instance.runtime.db
    .selectFrom("likes")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("post_id", "=", postId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function rowCount(
  instance: TestInstance,
  table: "posts" | "likes" | "follows" | "actors",
): Promise<number> {
  const row = await instance.runtime.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every string anywhere inside a JSON value (to look for CURIEs such as `as:Public`). */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(allStrings);
  return [];
}

/** `to`/`cc` of an activity or object as arrays of strings (single values are allowed on the wire). */
export const addressing = (o: any, field: "to" | "cc"): string[] =>
  o?.[field] === undefined ? [] : Array.isArray(o[field]) ? o[field] : [o[field]];

/** The `id` of an embedded object or the IRI itself. */
export const idOf = (o: unknown): string | undefined =>
  typeof o === "string"
    ? o
    : typeof o === "object" && o !== null
      ? ((o as { id?: string }).id ?? undefined)
      : undefined;
