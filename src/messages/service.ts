// Direct messages: Notes addressed only to specific people. Never announced,
// never listed anywhere but the conversation of the people in it.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { inTransaction } from "../../db/transaction.ts";
import { extractHashtags, renderMarkdown } from "../content/markdown.ts";
import { forbidden, notFound, parseInput } from "../errors.ts";
import { recordEvent } from "../events.ts";
import { refusesMessagesFrom } from "../filters/service.ts";
import { newId, now } from "../ids.ts";
import { attachImages, type StoredImage } from "../media/service.ts";
import { notify } from "../notifications/service.ts";
import { BODY_MAX, deletePost } from "../posts/service.ts";
import { postIri } from "../urls.ts";

export const messageInput = z.object({
  body: z
    .string()
    .max(BODY_MAX, `must be at most ${BODY_MAX} characters`)
    .refine((v) => v.trim() !== "", "is required"),
  cw: z
    .string()
    .trim()
    .max(500)
    .optional()
    .transform((v) => (v ? v : null)),
  /** Its images are shown blurred until opened. */
  sensitive: z.boolean().default(false),
});

/** Sends a message from a local user to one person (local or remote). */
export async function sendMessage(
  db: Db,
  origin: string,
  authorId: string,
  recipientId: string,
  input: z.input<typeof messageInput>,
  images: StoredImage[] = [],
) {
  const data = parseInput(messageInput, input);
  if (recipientId === authorId) throw forbidden("you cannot message yourself");
  const recipient = await db
    .selectFrom("actors")
    .select(["id", "type", "deleted_at"])
    .where("id", "=", recipientId)
    .executeTakeFirst();
  if (!recipient || recipient.deleted_at || recipient.type !== "Person") throw notFound("person");
  if (await refusesMessagesFrom(db, recipientId, authorId))
    throw forbidden("this person does not accept messages from you");
  // Replies continue the latest message of the conversation, so threads line up on Mastodon.
  const last = await conversationQuery(db, authorId, recipientId)
    .select("posts.id")
    .orderBy("posts.id", "desc")
    .limit(1)
    .executeTakeFirst();
  const id = newId();
  const ts = now();
  const iri = postIri(origin, id, "Note");
  await inTransaction(db, async (trx) => {
    let threadId = id;
    if (last)
      threadId = (await trx.selectFrom("posts").select("thread_id").where("id", "=", last.id).executeTakeFirstOrThrow())
        .thread_id;
    await trx
      .insertInto("posts")
      .values({
        id,
        iri,
        url: iri,
        type: "Note",
        author_id: authorId,
        community_id: null,
        parent_id: last?.id ?? null,
        thread_id: threadId,
        title: null,
        source: data.body,
        content_html: renderMarkdown(data.body, origin),
        summary: data.cw,
        sensitive: data.cw || data.sensitive ? 1 : 0,
        audience: "direct",
        language: null,
        local: 1,
        published_at: ts,
        updated_at: null,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0,
        pinned_at: null,
        created_at: ts,
      })
      .execute();
    await trx.insertInto("post_recipients").values({ post_id: id, actor_id: recipientId }).execute();
    await attachImages(trx, id, images);
    const tags = extractHashtags(data.body);
    if (tags.length > 0)
      await trx
        .insertInto("post_tags")
        .values(tags.map((tag) => ({ post_id: id, tag })))
        .execute();
    await recordEvent(trx, { type: "post.created", postId: id });
    await notify(trx, { userId: recipientId, kind: "message", actorId: authorId, postId: id });
  });
  return { id, iri };
}

/** Direct messages between two actors, either way, not hidden by `viewerId`. */
function conversationQuery(db: Db, viewerId: string, otherId: string) {
  return db
    .selectFrom("posts")
    .innerJoin("post_recipients as r", "r.post_id", "posts.id")
    .where("posts.audience", "=", "direct")
    .where((eb) =>
      eb.or([
        eb.and([eb("posts.author_id", "=", viewerId), eb("r.actor_id", "=", otherId)]),
        eb.and([eb("posts.author_id", "=", otherId), eb("r.actor_id", "=", viewerId)]),
      ]),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("hidden_posts as h")
            .select("h.post_id")
            .whereRef("h.post_id", "=", "posts.id")
            .where("h.actor_id", "=", viewerId),
        ),
      ),
    );
}

/** The messages of one conversation, oldest first. */
export async function conversation(db: Db, viewerId: string, otherId: string, limit = 200) {
  const rows = await conversationQuery(db, viewerId, otherId)
    .innerJoin("actors as author", "author.id", "posts.author_id")
    .select([
      "posts.id",
      "posts.content_html as contentHtml",
      "posts.summary",
      "posts.sensitive",
      "posts.published_at as publishedAt",
      "posts.deleted_at as deletedAt",
      "author.id as authorId",
      "author.username as authorUsername",
      "author.host as authorHost",
      "author.local as authorLocal",
      "author.name as authorName",
    ])
    .orderBy("posts.id", "desc")
    .limit(limit)
    .execute();
  return rows.reverse();
}

/** Everyone the viewer has messages with, most recent first. */
export async function conversations(db: Db, viewerId: string) {
  const rows = await db
    .selectFrom("posts")
    .innerJoin("post_recipients as r", "r.post_id", "posts.id")
    .select([
      "posts.id",
      "posts.author_id as authorId",
      "r.actor_id as recipientId",
      "posts.published_at as publishedAt",
    ])
    .where("posts.audience", "=", "direct")
    .where("posts.deleted_at", "is", null)
    .where((eb) => eb.or([eb("posts.author_id", "=", viewerId), eb("r.actor_id", "=", viewerId)]))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("hidden_posts as h")
            .select("h.post_id")
            .whereRef("h.post_id", "=", "posts.id")
            .where("h.actor_id", "=", viewerId),
        ),
      ),
    )
    .orderBy("posts.id", "desc")
    .limit(1000)
    .execute();
  const latest = new Map<string, string>();
  for (const r of rows) {
    const other = r.authorId === viewerId ? r.recipientId : r.authorId;
    if (!latest.has(other)) latest.set(other, r.publishedAt);
  }
  if (latest.size === 0) return [];
  const people = await db
    .selectFrom("actors")
    .select(["id", "username", "host", "local", "name"])
    .where("id", "in", [...latest.keys()])
    .execute();
  return people.map((p) => ({ ...p, lastAt: latest.get(p.id) ?? "" })).sort((a, b) => b.lastAt.localeCompare(a.lastAt));
}

/**
 * Deletes a conversation for the viewer: their own messages are deleted
 * (and the deletion federated); the other person's are hidden from them.
 */
export async function deleteConversation(
  db: Db,
  viewerId: string,
  otherId: string,
): Promise<{ deleted: number; hidden: number }> {
  const messages = await conversationQuery(db, viewerId, otherId)
    .select(["posts.id", "posts.author_id", "posts.deleted_at"])
    .execute();
  let deleted = 0;
  let hidden = 0;
  for (const m of messages) {
    if (m.author_id === viewerId) {
      if (!m.deleted_at) {
        await deletePost(db, m.id, viewerId);
        deleted++;
      }
    }
    await db
      .insertInto("hidden_posts")
      .values({ post_id: m.id, actor_id: viewerId, created_at: now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    if (m.author_id !== viewerId) hidden++;
  }
  return { deleted, hidden };
}

/** Whether `viewerId` takes part in a direct message. */
export async function isParticipant(db: Db, postId: string, viewerId: string): Promise<boolean> {
  const row = await db
    .selectFrom("posts")
    .leftJoin("post_recipients as r", (j) => j.onRef("r.post_id", "=", "posts.id").on("r.actor_id", "=", viewerId))
    .select(["posts.author_id", "r.actor_id"])
    .where("posts.id", "=", postId)
    .executeTakeFirst();
  return row !== undefined && (row.author_id === viewerId || row.actor_id === viewerId);
}
