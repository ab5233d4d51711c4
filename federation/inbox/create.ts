import type { InboxContext } from "@fedify/fedify";
import type { Create } from "@fedify/fedify/vocab";
import type { AppContext } from "../../src/context.ts";
import { logger } from "../../src/logging.ts";
import { isPostObject } from "../remote.ts";
import { ingestPost } from "./ingest.ts";

const log = logger("federation", "inbox", "create");

/** `Create` of a Note, Page or Article: a thread or reply in a community, or a direct message. */
export async function onCreate(ctx: InboxContext<AppContext>, create: Create): Promise<void> {
  const object = await create.getObject().catch(() => null);
  if (!isPostObject(object)) return log.debug("Create of an unsupported object dropped");
  if (!create.actorId || object.attributionId?.href !== create.actorId.href)
    return log.debug("Create whose actor is not the author dropped");
  // The activity as received (Fedify keeps the parsed document): it is read again with the same context
  // loader if re-shared, so compacting it here (a second JSON-LD pass per activity) bought nothing.
  const raw = await create.toJsonLd();
  await ingestPost(ctx, object, { activity: raw, raw });
}
