import type { Migration } from "kysely/migration";
import * as m0001 from "./0001-initial.ts";
import * as m0002 from "./0002-queue-channels.ts";
import * as m0003 from "./0003-hidden-posts.ts";
import * as m0004 from "./0004-domain-policy.ts";
import * as m0005 from "./0005-community-servers.ts";
import * as m0006 from "./0006-member-blocks.ts";
import * as m0007 from "./0007-data-rights.ts";
import * as m0008 from "./0008-gone-posts-export-leases.ts";
import * as m0009 from "./0009-moderation.ts";
import * as m0010 from "./0010-notification-preferences.ts";
import * as m0011 from "./0011-search.ts";
import * as m0012 from "./0012-remote-threads.ts";
import * as m0013 from "./0013-media.ts";
import * as m0014 from "./0014-email-digests.ts";
import * as m0015 from "./0015-remote-counts.ts";
import * as m0016 from "./0016-registrations.ts";
import * as m0017 from "./0017-queue-slot-keys.ts";
import * as m0018 from "./0018-recovery-codes.ts";
import * as m0019 from "./0019-warnings.ts";
import * as m0020 from "./0020-answers.ts";
import * as m0021 from "./0021-account-sanctions.ts";
import * as m0022 from "./0022-policy-version.ts";
import * as m0023 from "./0023-page-indexes.ts";

/** Forward-only migrations, applied in key order. Append; never edit a shipped one. */
export const migrations: Record<string, Migration> = {
  "0001-initial": m0001,
  "0002-queue-channels": m0002,
  "0003-hidden-posts": m0003,
  "0004-domain-policy": m0004,
  "0005-community-servers": m0005,
  "0006-member-blocks": m0006,
  "0007-data-rights": m0007,
  "0008-gone-posts-export-leases": m0008,
  "0009-moderation": m0009,
  "0010-notification-preferences": m0010,
  "0011-search": m0011,
  "0012-remote-threads": m0012,
  "0013-media": m0013,
  "0014-email-digests": m0014,
  "0015-remote-counts": m0015,
  "0016-registrations": m0016,
  "0017-queue-slot-keys": m0017,
  "0018-recovery-codes": m0018,
  "0019-warnings": m0019,
  "0020-answers": m0020,
  "0021-account-sanctions": m0021,
  "0022-policy-version": m0022,
  "0023-page-indexes": m0023,
};
