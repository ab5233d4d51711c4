// Sends due email digests (issue 12), from the background loop of every
// process. Delivery is at least once, never a storm: a worker claims a
// digest by moving its due time forward (a conditional UPDATE, so of two
// workers on one database only one wins) to a retry time that grows with
// each failure, and only then sends. A failed send leaves it due at that
// retry time; a crash after sending but before recording success sends it
// once more at the retry time, and no faster however often that repeats.
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.ts";
import { digestMail } from "../../views/mail/digest.ts";
import type { Config } from "../config.ts";
import { logger } from "../logging.ts";
import { failureSummary, type Mailer, mailerFor, serverFailure } from "../mail/mailer.ts";
import { after, DIGEST_PERIOD_MS, type DigestFrequency } from "./digest-settings.ts";
import { NOTIFICATION_KINDS } from "./kinds.ts";
import { unreadByKind } from "./service.ts";

const log = logger("digests");

/**
 * How each kind is counted in a digest: one and many. A kind missing here
 * (added since) counts among "other notifications" until it is named.
 */
const DIGEST_NOUNS: Readonly<Record<string, readonly [string, string]>> = {
  reply: ["reply", "replies"],
  mention: ["mention", "mentions"],
  message: ["direct message", "direct messages"],
  like: ["like", "likes"],
  follow: ["new follower", "new followers"],
  join_request: ["request to join", "requests to join"],
  moderation: ["moderation decision about you", "moderation decisions about you"],
  report_closed: ["report of yours handled", "reports of yours handled"],
  appeal_decided: ["decision on your appeal", "decisions on your appeals"],
  report_filed: ["new report to review", "new reports to review"],
  appeal_filed: ["new appeal to review", "new appeals to review"],
  registration: ["new sign-up to review", "new sign-ups to review"],
  follow_request: ["request to follow you", "requests to follow you"],
};

/** First retry five minutes on, doubling to at most six hours. */
const retryDelay = (failures: number) => Math.min(5 * 60_000 * 2 ** Math.max(0, failures - 1), 6 * 3_600_000);

export interface DigestRound {
  sent: number;
  failed: number;
}

export interface DigestOptions {
  /** The time of this round (tests move it on); now by default. */
  at?: Date;
  /** The mailer; by default SMTP_URL's, and no round at all without one. */
  mailer?: Mailer | null;
  /** Most digests looked at in one round; the rest wait for the next. */
  batch?: number;
}

/** Sends every digest due at `at` (up to `batch`); stops early when the mail server fails. */
export async function sendDueDigests(
  ctx: { db: Kysely<Database>; config: Pick<Config, "smtpUrl" | "smtpFrom" | "origin" | "instanceName"> },
  options: DigestOptions = {},
): Promise<DigestRound> {
  const mailer = options.mailer === undefined ? mailerFor(ctx.config) : options.mailer;
  const round: DigestRound = { sent: 0, failed: 0 };
  if (!mailer) return round;
  const { db } = ctx;
  const at = (options.at ?? new Date()).toISOString();
  // A member who removed their address has no digest any more (one added later doesn't quietly restart it).
  await db
    .deleteFrom("email_digests")
    .where("user_id", "in", (eb) =>
      eb
        .selectFrom("users")
        .select("actor_id")
        .where((w) => w.or([w("email", "is", null), w("email", "=", "")])),
    )
    .execute();
  const due = await db
    .selectFrom("email_digests")
    .innerJoin("users", "users.actor_id", "email_digests.user_id")
    .select([
      "email_digests.user_id as userId",
      "email_digests.frequency",
      "email_digests.unsubscribe_token as token",
      "email_digests.covered_until as coveredUntil",
      "email_digests.next_due_at as nextDueAt",
      "email_digests.failures",
      "users.email",
    ])
    .where("email_digests.next_due_at", "<=", at)
    // A suspended member is told nothing by mail: their account only leads to its statement of reasons.
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("actors")
            .select("actors.id")
            .whereRef("actors.id", "=", "email_digests.user_id")
            .where("actors.suspended_at", "is not", null),
        ),
      ),
    )
    .orderBy("email_digests.next_due_at")
    .limit(options.batch ?? 200)
    .execute();
  for (const digest of due) {
    const outcome = await sendOne(ctx, mailer, { ...digest, email: digest.email ?? "" }, at);
    if (outcome === "sent") round.sent++;
    if (outcome === "failed" || outcome === "server_failed") round.failed++;
    // The next digests would fail the same way: they stay due, untouched, for the next round.
    if (outcome === "server_failed") break;
  }
  return round;
}

interface DueDigest {
  userId: string;
  frequency: DigestFrequency;
  token: string;
  coveredUntil: string;
  nextDueAt: string;
  failures: number;
  email: string;
}

async function sendOne(
  ctx: { db: Kysely<Database>; config: Pick<Config, "origin" | "instanceName"> },
  mailer: Mailer,
  digest: DueDigest,
  at: string,
): Promise<"sent" | "empty" | "taken" | "failed" | "server_failed"> {
  const { db, config } = ctx;
  const retryAt = after(at, retryDelay(digest.failures + 1));
  const claim = await db
    .updateTable("email_digests")
    .set({ next_due_at: retryAt, failures: digest.failures + 1 })
    .where("user_id", "=", digest.userId)
    .where("next_due_at", "=", digest.nextDueAt)
    .executeTakeFirst();
  // Another worker took it, or the member changed it since it was read.
  if (Number(claim.numUpdatedRows) !== 1) return "taken";

  const counts = await unreadByKind(db, digest.userId, digest.coveredUntil, at);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total > 0) {
    try {
      await mailer.send(compose(config, digest, counts, total));
    } catch (error) {
      log.warn("email digest for user {userId} not sent ({code}); retried from {retryAt}", {
        userId: digest.userId,
        code: failureSummary(error),
        retryAt,
      });
      return serverFailure(error) ? "server_failed" : "failed";
    }
    log.info("email digest of {total} notifications sent to user {userId}", { total, userId: digest.userId });
  }
  // Recorded even if the member switched Daily and Weekly meanwhile (the next one is due a period of the
  // choice now stored): only a digest turned off, or off and on again, since it was read is left alone.
  await db
    .updateTable("email_digests")
    .set((eb) => ({
      covered_until: at,
      next_due_at: eb
        .case()
        .when("frequency", "=", "weekly")
        .then(after(at, DIGEST_PERIOD_MS.weekly))
        .else(after(at, DIGEST_PERIOD_MS.daily))
        .end(),
      failures: 0,
      ...(total > 0 ? { last_sent_at: at } : {}),
    }))
    .where("user_id", "=", digest.userId)
    .where("covered_until", "=", digest.coveredUntil)
    .execute();
  return total > 0 ? "sent" : "empty";
}

function compose(
  config: Pick<Config, "origin" | "instanceName">,
  digest: DueDigest,
  counts: Map<string, number>,
  total: number,
) {
  const phrases: string[] = [];
  let other = 0;
  // In the order of kinds.ts; kinds without a noun (or no longer known) are summed up last.
  for (const kind of Object.keys(NOTIFICATION_KINDS) as (keyof typeof NOTIFICATION_KINDS)[]) {
    const n = counts.get(kind) ?? 0;
    const noun = DIGEST_NOUNS[kind];
    if (n === 0) continue;
    if (noun) phrases.push(`${n} ${n === 1 ? noun[0] : noun[1]}`);
    else other += n;
  }
  for (const [kind, n] of counts) if (!(kind in NOTIFICATION_KINDS)) other += n;
  if (other > 0) phrases.push(`${other} other ${other === 1 ? "notification" : "notifications"}`);
  const unsubscribeUrl = new URL(`/email/unsubscribe?token=${digest.token}`, config.origin).href;
  const mail = digestMail({
    instanceName: config.instanceName,
    counts: phrases,
    total,
    frequency: digest.frequency,
    notificationsUrl: new URL("/notifications", config.origin).href,
    settingsUrl: new URL("/settings/notifications", config.origin).href,
    unsubscribeUrl,
  });
  return {
    to: digest.email,
    ...mail,
    headers: {
      "List-Unsubscribe": `<${unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      // RFC 3834: no out-of-office replies to a machine.
      "Auto-Submitted": "auto-generated",
    },
  };
}
