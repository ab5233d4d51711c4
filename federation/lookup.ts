import type { Federation } from "@fedify/fedify";
import { isActor } from "@fedify/fedify/vocab";
import { findActorByIri, findRemoteActorByHandle } from "../src/actors/remote.ts";
import type { AppContext, RemoteLookup } from "../src/context.ts";
import { instanceLoader, persistActor } from "./remote.ts";

const HANDLE = /^@?([^@\s/]+)@([a-z0-9.-]+(?::\d+)?)$/i;

/** Resolves handles and URLs for the web and CLI (search box, joining remote communities). */
export function remoteLookup(federation: Federation<AppContext>, data: AppContext): RemoteLookup {
  return {
    async resolveActor(query) {
      const q = query.trim();
      const ctx = federation.createContext(new URL(data.config.origin), data);
      const handle = HANDLE.exec(q);
      const [, username, host] = handle ?? [];
      if (username && host) {
        const known = await findRemoteActorByHandle(data.db, username, host);
        if (known) return known.id;
      } else if (/^https?:\/\//.test(q)) {
        const known = await findActorByIri(data.db, q);
        if (known) return known.id;
      } else {
        return null;
      }
      // WebFinger for handles (Fedify resolves acct: over https), a signed fetch for URLs.
      const object = await ctx
        .lookupObject(handle ? `@${handle[1]}@${handle[2]}` : q, { documentLoader: await instanceLoader(ctx) })
        .catch(() => null);
      return object && isActor(object) ? persistActor(ctx, object) : null;
    },
  };
}
