// `kindred mod …`: an admin at the command line moderates posts and people in
// any community, local or remote, through the same services as moderators in
// the web app. The log shows "an admin"; the running server's outbox federates
// each action from the event it records.
import type { Db } from "../../db/schema.ts";
import { getCommunity } from "../communities/service.ts";
import { DomainError } from "../errors.ts";
import type { Acting } from "../moderation/authority.ts";
import { addModerator, BAN_DAYS_MAX, banPerson, removeModerator, unbanPerson } from "../moderation/people.ts";
import {
  type ActionOptions,
  lockThread,
  pinThread,
  REASON_MAX,
  removePost,
  restorePost,
  unlockThread,
  unpinThread,
} from "../moderation/posts.ts";
import { hostOf } from "../urls.ts";
import { type Command, command, shortText, str, wholeNumber } from "./args.ts";
import { shortTime } from "./output.ts";

/** The admin at the command line: no person, so the modlog says "an admin". */
export const ADMIN: Acting = { role: "admin", actorId: null };

const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]+/gu;
/** Text from other servers, printed: no control characters (terminal escapes) or direction overrides. */
export const printable = (text: string) => text.replace(CONTROL, " ");

/** `name` for a local actor, `name@host` for a remote one (as the commands accept them). */
export const handleOf = (a: { username: string; host: string; local: number }) =>
  printable(a.local === 1 ? a.username : `${a.username}@${a.host}`);

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a page address names, unless it names several things (a Lemmy link post's `url` is the link). */
function onlyOne<T>(rows: T[], ref: string): T | undefined {
  if (rows.length > 1) throw new DomainError("invalid", `${ref} is the address of several things here; give an IRI`);
  return rows[0];
}

/** The id in a local post's address: `/posts/<id>`, `/replies/<id>`, a reply's `/posts/<thread>#post-<id>`. */
function localPostId(origin: string, ref: string): string | undefined {
  if (UUID.test(ref)) return ref.toLowerCase();
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(origin).origin) return undefined;
  const anchor = /^#post-(.{36})$/.exec(url.hash)?.[1];
  if (anchor && UUID.test(anchor)) return anchor.toLowerCase();
  const id = /^\/(?:posts|replies)\/(.{36})\/?$/.exec(url.pathname)?.[1];
  return id && UUID.test(id) ? id.toLowerCase() : undefined;
}

/** A post by its IRI (local or remote), its page address or its id; with its community's handle. */
export async function findPostRef(db: Db, origin: string, ref: string) {
  const query = db
    .selectFrom("posts")
    .leftJoin("actors as community", "community.id", "posts.community_id")
    .select(["posts.id", "posts.iri", "posts.deleted_at as deletedAt"])
    .select(["community.username", "community.host", "community.local"]);
  const id = localPostId(origin, ref);
  const post =
    (await query.where("posts.iri", "=", ref).executeTakeFirst()) ??
    (id ? await query.where("posts.id", "=", id).executeTakeFirst() : undefined) ??
    (isUrl(ref) ? onlyOne(await query.where("posts.url", "=", ref).limit(2).execute(), ref) : undefined);
  if (!post) throw new DomainError("not_found", `no post ${ref} is known here`);
  if (post.deletedAt) throw new DomainError("not_found", `the post ${ref} was deleted`);
  const { username, host, local } = post;
  const community = username !== null && host !== null ? handleOf({ username, host, local: local ?? 0 }) : "-";
  return { id: post.id, iri: printable(post.iri), community };
}

/** A person by IRI or profile address, `@name@host`, `name@host`, or a local `name`. */
export async function findPersonRef(db: Db, origin: string, ref: string) {
  const query = db.selectFrom("actors").select(["id", "iri", "type", "username", "host", "local", "deleted_at"]);
  let actor: Awaited<ReturnType<typeof query.executeTakeFirst>>;
  if (isUrl(ref)) {
    actor =
      (await query.where("iri", "=", ref).executeTakeFirst()) ??
      onlyOne(await query.where("url", "=", ref).limit(2).execute(), ref);
  } else {
    const handle = ref.replace(/^@/, "");
    const at = handle.indexOf("@");
    const name = at < 0 ? handle : handle.slice(0, at);
    const host = at < 0 ? hostOf(origin) : handle.slice(at + 1).toLowerCase();
    if (name)
      actor = await query.where("username_key", "=", name.toLowerCase()).where("host", "=", host).executeTakeFirst();
  }
  if (!actor)
    throw new DomainError(
      "not_found",
      `no actor ${ref} is known here; give a local username, @name@host or the IRI of someone this server has seen`,
    );
  if (actor.deleted_at) throw new DomainError("not_found", `the account ${ref} was deleted`);
  if (actor.type === "Group") throw new DomainError("invalid", `${ref} is a community, not a person`);
  return { id: actor.id, handle: handleOf(actor) };
}

/** A community by local slug, `name@host` of a remote one we know, or its IRI. */
export async function findCommunityRef(db: Db, origin: string, ref: string) {
  let handle = ref.replace(/^[@!]/, "");
  if (isUrl(ref)) {
    const group = await db
      .selectFrom("actors")
      .select(["username", "host", "local"])
      .where("iri", "=", ref)
      .where("type", "=", "Group")
      .executeTakeFirst();
    if (!group) throw new DomainError("not_found", `no community ${ref} is known here`);
    handle = group.local === 1 ? group.username : `${group.username}@${group.host}`;
  }
  const at = handle.lastIndexOf("@");
  if (at > 0 && handle.slice(at + 1).toLowerCase() === hostOf(origin)) handle = handle.slice(0, at);
  const community = await getCommunity(db, handle);
  return { id: community.id, slug: printable(community.slug) };
}

const reasonOption = { reason: { type: "string" } } as const;
const checkReason = (values: Record<string, unknown>) =>
  void shortText("--reason", values.reason as string | undefined, REASON_MAX);

type PostAction = (db: Db, origin: string, acting: Acting, postId: string, options?: ActionOptions) => Promise<string>;

/** One `mod <verb> <post>` command. */
function postCommand(name: string, target: "post" | "thread", summary: string, act: PostAction, done: string) {
  const positional = `${target}-iri` as const;
  return command({
    name: `mod ${name}`,
    args: `<${positional}> [--reason <text>]`,
    summary,
    positionals: [positional],
    options: reasonOption,
    check: checkReason,
    async run({ values, args, io, rt }) {
      const post = await findPostRef(rt.db, rt.config.origin, args[positional]);
      await act(rt.db, rt.config.origin, ADMIN, post.id, { reason: str(values.reason) });
      io.stdout.write(`${done} ${post.iri} in ${post.community}\n`);
    },
  });
}

const ADDRESS = "(its IRI, local or remote, or its page's address)";

const postCommands: Command[] = [
  postCommand(
    "remove",
    "post",
    `Remove a post ${ADDRESS} from its community; its author is told why (--reason).`,
    removePost,
    "removed",
  ),
  postCommand("restore", "post", "Restore a removed post.", restorePost, "restored"),
  postCommand("lock", "thread", `Lock a thread ${ADDRESS}: no new replies.`, lockThread, "locked"),
  postCommand("unlock", "thread", "Unlock a locked thread.", unlockThread, "unlocked"),
  postCommand("pin", "thread", "Pin a thread to the top of its community.", pinThread, "pinned"),
  postCommand("unpin", "thread", "Unpin a pinned thread.", unpinThread, "unpinned"),
];

/** The person's posts a ban may still remove in the community. */
async function livePosts(db: Db, communityId: string, actorId: string): Promise<number> {
  const row = await db
    .selectFrom("posts")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .where("community_id", "=", communityId)
    .where("author_id", "=", actorId)
    .where("removed_at", "is", null)
    .where("deleted_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const PERSON = "<actor>";
const PERSON_HELP = "The person: their IRI, @name@host, or a local username.";

const peopleCommands: Command[] = [
  command({
    name: "mod ban",
    args: `<community> ${PERSON} [--reason <text>] [--remove-content] [--days <n>]`,
    summary:
      "Ban a person from a community (a local slug or a remote name@host), for --days or for good; " +
      `--remove-content also removes their posts there. ${PERSON_HELP}`,
    positionals: ["community", "actor"],
    options: { ...reasonOption, "remove-content": { type: "boolean" }, days: { type: "string" } },
    check(values) {
      checkReason(values);
      wholeNumber("--days", values.days, 1, BAN_DAYS_MAX, "days");
    },
    async run({ values, args, io, rt }) {
      const community = await findCommunityRef(rt.db, rt.config.origin, args.community);
      const person = await findPersonRef(rt.db, rt.config.origin, args.actor);
      const removeContent = values["remove-content"] === true;
      const before = removeContent ? await livePosts(rt.db, community.id, person.id) : 0;
      await banPerson(rt.db, rt.config.origin, ADMIN, community.id, person.id, {
        reason: str(values.reason),
        removeContent,
        days: wholeNumber("--days", values.days, 1, BAN_DAYS_MAX, "days") ?? null,
      });
      const ban = await rt.db
        .selectFrom("community_bans")
        .select("expires_at")
        .where("community_id", "=", community.id)
        .where("actor_id", "=", person.id)
        .executeTakeFirst();
      const until = ban?.expires_at ? `until ${shortTime(ban.expires_at)} UTC` : "permanently";
      let line = `banned ${person.handle} from ${community.slug} ${until}`;
      if (removeContent) {
        const left = await livePosts(rt.db, community.id, person.id);
        line += `; removed ${before - left} of their posts there`;
        if (left > 0) line += ` (${left} left: a ban removes at most 500 at once)`;
      }
      io.stdout.write(`${line}\n`);
    },
  }),
  command({
    name: "mod unban",
    args: `<community> ${PERSON} [--reason <text>]`,
    summary: `Lift a person's ban from a community. ${PERSON_HELP}`,
    positionals: ["community", "actor"],
    options: reasonOption,
    check: checkReason,
    async run({ values, args, io, rt }) {
      const community = await findCommunityRef(rt.db, rt.config.origin, args.community);
      const person = await findPersonRef(rt.db, rt.config.origin, args.actor);
      await unbanPerson(rt.db, rt.config.origin, ADMIN, community.id, person.id, { reason: str(values.reason) });
      io.stdout.write(`lifted the ban on ${person.handle} in ${community.slug}\n`);
    },
  }),
  command({
    name: "mod add",
    args: `<community> ${PERSON}`,
    summary: `Appoint a moderator of a community (of a local one: a member). ${PERSON_HELP}`,
    positionals: ["community", "actor"],
    options: {},
    async run({ args, io, rt }) {
      const community = await findCommunityRef(rt.db, rt.config.origin, args.community);
      const person = await findPersonRef(rt.db, rt.config.origin, args.actor);
      await addModerator(rt.db, rt.config.origin, ADMIN, community.id, person.id);
      io.stdout.write(`${person.handle} now moderates ${community.slug}\n`);
    },
  }),
  command({
    name: "mod remove-moderator",
    args: `<community> ${PERSON}`,
    summary: "Dismiss a moderator of a community (its owner and its last moderator stay).",
    positionals: ["community", "actor"],
    options: {},
    async run({ args, io, rt }) {
      const community = await findCommunityRef(rt.db, rt.config.origin, args.community);
      const person = await findPersonRef(rt.db, rt.config.origin, args.actor);
      await removeModerator(rt.db, rt.config.origin, ADMIN, community.id, person.id);
      io.stdout.write(`${person.handle} no longer moderates ${community.slug}\n`);
    },
  }),
];

export const moderation: Command[] = [...postCommands, ...peopleCommands];
