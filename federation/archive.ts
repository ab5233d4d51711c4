// ActivityPub documents for a member's export archive, in the shape of
// Mastodon's archive (actor.json, outbox.json items), so tools that read
// Mastodon archives read ours. Posts are rendered as they go on the wire.
import type { Federation } from "@fedify/fedify";
import { Create } from "@fedify/fedify/vocab";
import type { AppContext, ArchiveRenderer } from "../src/context.ts";
import { postForFederation } from "../src/posts/outbound.ts";
import { toApObject } from "./objects.ts";
import { normalizeWireJson } from "./wire.ts";

export function archiveRenderer(federation: Federation<AppContext>, data: AppContext): ArchiveRenderer {
  return {
    async actor(identifier, avatarFile) {
      const iri = new URL(`/@${identifier}`, data.config.origin);
      const person = await federation.createContext(new Request(iri), data).getActor(identifier);
      if (!person) throw new Error(`no actor document for ${identifier}`);
      const json = normalizeWireJson(await person.toJsonLd()) as Record<string, unknown>;
      // As in Mastodon's archive, the avatar is the file alongside.
      if (avatarFile && json.icon && typeof json.icon === "object")
        json.icon = { ...(json.icon as object), url: avatarFile };
      return json;
    },
    async createActivity(postId) {
      const post = await postForFederation(data.db, postId);
      if (!post) return undefined;
      const object = toApObject({ data }, post);
      const create = new Create({
        id: new URL(`${post.iri}#create`),
        actor: new URL(post.authorIri),
        object,
        tos: object.toIds,
        ccs: object.ccIds,
        published: object.published,
      });
      // Fedify's compact form without a JSON-LD processor: fast enough for tens of thousands of posts.
      const { "@context": _context, ...item } = normalizeWireJson(await create.toJsonLd()) as Record<string, unknown>;
      return item;
    },
  };
}
