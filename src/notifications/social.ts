// What the notifications page says of replies, mentions, messages, likes,
// join requests and follows: who, about what, and a link to it. Likes of one
// post are one card ("Ana and 3 others liked your thread").
import type { NotificationCard } from "../../views/pages/notifications.ts";
import type { NotificationKind } from "./kinds.ts";
import type { listNotifications } from "./service.ts";
import { SOCIAL_KINDS } from "./visibility.ts";

type Item = Awaited<ReturnType<typeof listNotifications>>["items"][number];

const handleOf = (username: string | null, host: string | null, local: number | null) =>
  username === null ? null : local === 1 ? username : `${username}@${host}`;

export const isSocial = (kind: string) => SOCIAL_KINDS.has(kind as NotificationKind);

/** The card of one social notification, or of a group of likes of the same post (newest first). */
export function socialCard(group: Item[]): NotificationCard {
  const [n, ...rest] = group as [Item, ...Item[]];
  const who = (i: Item) => i.actorName || handleOf(i.actorUsername, i.actorHost, i.actorLocal) || "Someone";
  const person = who(n);
  const handle = handleOf(n.actorUsername, n.actorHost, n.actorLocal);
  const title = n.threadTitle ? `“${n.threadTitle}”` : null;
  const community = handleOf(n.communityUsername, n.communityHost, n.communityLocal);
  const card: NotificationCard = {
    id: n.id,
    ids: group.map((i) => i.id),
    unread: group.some((i) => i.readAt === null),
    sentence: person,
    detail: null,
    outcome: null,
    href: n.postId ? `/posts/${n.postId}` : null,
    createdAt: n.createdAt,
  };
  const thread = title ? `your thread ${title}` : "your post";
  // A like names the post liked; a reply is a post whose parent is the member's.
  const what = n.postParentId === null ? thread : "your reply";
  switch (n.kind) {
    case "reply":
      card.sentence = `${person} replied to ${n.postParentId === n.threadId ? thread : "your reply"}`;
      if (n.postParentId !== n.threadId && title) card.detail = `In ${title}`;
      break;
    case "mention":
      card.sentence = `${person} mentioned you${title ? ` in ${title}` : ""}`;
      break;
    case "message":
      card.sentence = `${person} sent you a direct message`;
      card.href = handle ? `/messages/${handle}` : "/messages";
      break;
    case "like": {
      const others = new Set(rest.map((i) => i.actorId).filter((a) => a !== n.actorId)).size;
      const and = others === 0 ? "" : ` and ${others} ${others === 1 ? "other" : "others"}`;
      card.sentence = `${person}${and} liked ${what}`;
      if (n.postParentId !== null && title) card.detail = `In ${title}`;
      break;
    }
    case "join_request":
      card.sentence = `${person} asks to join ${n.communityName ?? community ?? "a community"}`;
      card.href = community ? `/@${community}/moderation` : null;
      break;
    case "follow":
      card.sentence = `${person} followed you`;
      card.href = handle ? `/@${handle}` : null;
      break;
    case "follow_request":
      card.sentence = `${person} requested to follow you`;
      card.href = "/follow-requests";
      break;
  }
  if (handle && n.kind !== "follow" && n.kind !== "message" && n.kind !== "like") card.detail ??= `@${handle}`;
  return card;
}

/**
 * Puts the likes of each post together, at the place of the newest; other
 * items keep their order. Grouping is per page of the list.
 */
export function groupLikes(items: Item[]): Item[][] {
  const groups: Item[][] = [];
  const likes = new Map<string, Item[]>();
  for (const i of items) {
    if (i.kind === "like" && i.postId) {
      const group = likes.get(i.postId);
      if (group) {
        group.push(i);
        continue;
      }
      likes.set(i.postId, [i]);
      groups.push(likes.get(i.postId) as Item[]);
    } else groups.push([i]);
  }
  return groups;
}
