import type { Federation } from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";
import { Group, Person, PropertyValue, Image } from "@fedify/fedify/vocab";
import { findLocalActor } from "../src/actors/service.ts";
import { SYSTEM_NAMES } from "../src/accounts/names.ts";
import type { AppContext } from "../src/context.ts";
import { paths } from "../src/urls.ts";

/** Users (`Person`) and communities (`Group`) share one path and one WebFinger namespace. */
export function registerActors(federation: Federation<AppContext>): void {
  federation
    .setActorDispatcher(paths.actor as "/@{identifier}", async (ctx, identifier) => {
      if (SYSTEM_NAMES.has(identifier)) return null;
      const a = await findLocalActor(ctx.data.db, identifier);
      // Local-only communities are never offered outside the instance.
      if (!a || a.federation === "local") return null;
      const common = {
        id: ctx.getActorUri(identifier),
        preferredUsername: a.username,
        name: a.name ?? a.username,
        summary: a.summary_html,
        url: new URL(a.url ?? a.iri),
        manuallyApprovesFollowers: a.manually_approves_followers === 1,
        discoverable: a.discoverable === 1,
        published: Temporal.Instant.from(a.created_at),
        icon: a.avatar_url ? new Image({ url: new URL(a.avatar_url) }) : null,
      };
      if (a.type === "Group") return new Group(common);
      return new Person({
        ...common,
        // The admin-set badge, as a profile field Mastodon shows.
        attachments: a.isClinician === 1 ? [new PropertyValue({ name: "Verified clinician", value: `Verified by the admins of ${new URL(ctx.data.config.origin).host}` })] : [],
      });
    })
    .mapHandle((_ctx, username) => username.toLowerCase());
}
