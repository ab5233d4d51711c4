// IRIs and page paths of local objects. federation/ registers its dispatchers
// on the same templates, so an IRI minted here is the one Fedify serves.
export const paths = {
  /** Users and communities share one namespace, as in WebFinger `acct:name@host`. */
  actor: "/@{identifier}",
  /** Threads (ActivityPub `Page`). */
  post: "/posts/{id}",
  /** Replies (ActivityPub `Note`); the page redirects into its thread. */
  reply: "/replies/{id}",
  follow: "/follows/{id}",
  like: "/likes/{id}",
} as const;

const fill = (template: string, value: string) => template.replace(/\{\w+\}/, encodeURIComponent(value));

export const actorIri = (origin: string, usernameKey: string) => `${origin}${fill(paths.actor, usernameKey)}`;
export const postIri = (origin: string, id: string, type: "Page" | "Note" = "Page") =>
  `${origin}${fill(type === "Page" ? paths.post : paths.reply, id)}`;
export const followIri = (origin: string, id: string) => `${origin}${fill(paths.follow, id)}`;
export const likeIri = (origin: string, id: string) => `${origin}${fill(paths.like, id)}`;
export const hostOf = (origin: string) => new URL(origin).host;
/** A moderation activity we send (`/activities/lock/{id}`…): the path names its kind (wire.ts reads it). */
export const moderationActivityIri = (origin: string, kind: string, id: string) =>
  `${origin}/activities/${kind}/${encodeURIComponent(id)}`;
