// The outbox's moderation activities, in Lemmy's shapes (FEP-1b12): removals
// (`Delete` with `summary`) and restores (`Undo`), `Lock`, featured `Add` and
// `Remove`, bans (`Block` with `target`), moderators `Add`/`Remove`, reports
// (`Flag`) and their resolution (`Resolve`).
import type { Context } from "@fedify/fedify";
import type { AppContext } from "../src/context.ts";
import type { DomainEvent } from "../src/events.ts";

export async function moderationActivity(
  _ctx: Context<AppContext>,
  _event: Extract<DomainEvent, { type: "moderation.acted" | "moderation.received" | "report.filed" | "report.closed" }>,
): Promise<void> {
  // Built in the next step.
}
