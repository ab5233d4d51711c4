import type { Federation } from "@fedify/fedify";
import { countLocalPosts, countLocalUsers } from "../src/actors/service.ts";
import type { AppContext } from "../src/context.ts";
import { getSettings } from "../src/instance/settings.ts";

export const SOFTWARE_VERSION = "0.1.0";

/** NodeInfo 2.1 with real usage figures. */
export function registerNodeInfo(federation: Federation<AppContext>): void {
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", async (ctx) => {
    const db = ctx.data.db;
    const day = 86_400_000;
    const posts = await countLocalPosts(db);
    const settings = await getSettings(db);
    return {
      software: { name: "kindred", version: SOFTWARE_VERSION, homepage: new URL(ctx.data.config.origin) },
      protocols: ["activitypub"],
      openRegistrations: settings.registrations === "open",
      usage: {
        users: {
          total: await countLocalUsers(db),
          activeMonth: await countLocalUsers(db, new Date(Date.now() - 30 * day).toISOString()),
          activeHalfyear: await countLocalUsers(db, new Date(Date.now() - 180 * day).toISOString()),
        },
        localPosts: posts.threads,
        localComments: posts.replies,
      },
      metadata: { nodeName: ctx.data.config.instanceName },
    };
  });
}
