import type { Federation } from "@fedify/fedify";
import { Application, Endpoints, Group, Image, Person, PropertyValue } from "@fedify/fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { ensureInstanceActor, INSTANCE_IDENTIFIER } from "../src/actors/instance.ts";
import { findErasingActor, findLocalActor } from "../src/actors/service.ts";
import type { AppContext } from "../src/context.ts";
import { paths } from "../src/urls.ts";
import { keyPairsOf } from "./keys.ts";

/**
 * Users (`Person`) and communities (`Group`) share one path and one WebFinger
 * namespace; `instance` is the `Application`.
 */
export function registerActors(federation: Federation<AppContext>): void {
  federation
    .setActorDispatcher(paths.actor as "/@{identifier}", async (ctx, identifier) => {
      const keys = await ctx.getActorKeyPairs(identifier);
      const keyFields = { publicKey: keys[0]?.cryptographicKey ?? null, assertionMethods: keys.map((k) => k.multikey) };
      const links = {
        id: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      };
      if (identifier === INSTANCE_IDENTIFIER) {
        const host = new URL(ctx.data.config.origin).host;
        return new Application({
          ...links,
          ...keyFields,
          preferredUsername: host,
          name: ctx.data.config.instanceName,
          url: new URL(ctx.data.config.origin),
          manuallyApprovesFollowers: true,
          discoverable: false,
        });
      }
      const a = await findLocalActor(ctx.data.db, identifier);
      if (!a) {
        // An erased member, while their Deletes travel: only what checks the signatures.
        const erasing = await findErasingActor(ctx.data.db, identifier);
        return erasing
          ? new Person({
              ...links,
              ...keyFields,
              preferredUsername: erasing.username,
              manuallyApprovesFollowers: true,
              discoverable: false,
              indexable: false,
            })
          : null;
      }
      // Local-only communities are never offered outside the instance.
      if (a.federation === "local") return null;
      // A suspended account, as Mastodon serves one: `suspended: true` and nothing of what they wrote.
      if (a.suspended_at)
        return new Person({
          ...links,
          ...keyFields,
          preferredUsername: a.username,
          url: new URL(a.url ?? a.iri),
          outbox: ctx.getOutboxUri(identifier),
          followers: ctx.getFollowersUri(identifier),
          following: ctx.getFollowingUri(identifier),
          manuallyApprovesFollowers: true,
          discoverable: false,
          indexable: false,
          suspended: true,
          published: Temporal.Instant.from(a.created_at),
        });
      const common = {
        ...links,
        ...keyFields,
        preferredUsername: a.username,
        name: a.name ?? a.username,
        summary: a.summary_html,
        url: new URL(a.url ?? a.iri),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        following: ctx.getFollowingUri(identifier),
        featured: ctx.getFeaturedUri(identifier),
        manuallyApprovesFollowers: a.manually_approves_followers === 1,
        discoverable: a.discoverable === 1,
        indexable: a.discoverable === 1,
        published: Temporal.Instant.from(a.created_at),
        updated: Temporal.Instant.from(a.updated_at),
        icon: a.avatar_url ? new Image({ url: new URL(a.avatar_url) }) : null,
      };
      if (a.type === "Group") {
        return new Group({
          ...common,
          // FEP-1b12: the moderators, as Lemmy publishes them.
          attribution: ctx.getCollectionUri("moderators", { identifier }),
        });
      }
      return new Person({
        ...common,
        // The admin-set badge, as a profile field Mastodon shows ("Verified clinician: Nurse").
        attachments:
          a.isClinician === 1
            ? [clinicianField(ctx.data.config.origin, a.clinicianProfession, a.clinicianRegistration)]
            : [],
      });
    })
    .mapHandle((_ctx, username) => username.toLowerCase())
    .setKeyPairsDispatcher(async (ctx, identifier) => {
      const db = ctx.data.db;
      if (identifier === INSTANCE_IDENTIFIER)
        return keyPairsOf(db, await ensureInstanceActor(db, ctx.data.config.origin));
      const live = await findLocalActor(db, identifier);
      if (live) return keyPairsOf(db, live.id);
      const erasing = await findErasingActor(db, identifier);
      return erasing ? keyPairsOf(db, erasing.id, { generate: false }) : [];
    });
}

/**
 * The badge as a `PropertyValue`: the profession as its value (plain text:
 * Mastodon shows a field's value as HTML), then the registration reference
 * and who verified it.
 */
function clinicianField(origin: string, profession: string | null, registration: string | null): PropertyValue {
  const by = `verified by the admins of ${new URL(origin).host}`;
  const details = registration ? `registration ${registration}, ${by}` : by;
  return new PropertyValue({
    name: "Verified clinician",
    value: `${escapeHtml(profession ?? "Clinician")} (${escapeHtml(details)})`,
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
