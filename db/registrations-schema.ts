// Table types of controlled registrations (issue 13). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** A sign-up waiting for an admin ("approval required"); the account exists only once approved. */
export interface RegistrationApplicationsTable {
  id: string;
  username: string;
  username_key: string;
  email: string | null;
  password_hash: string;
  /** The applicant's answer to the instance's question. */
  answer: string;
  agreed_at: Iso | null;
  created_at: Iso;
}

/** An invite link (`/invite/{code}`): signs up past approval or closed registrations, within its limits. */
export interface InvitesTable {
  id: string;
  code: string;
  created_by: string | null;
  /** Null: any number of uses. */
  max_uses: number | null;
  uses: number;
  expires_at: Iso | null;
  revoked_at: Iso | null;
  created_at: Iso;
}

/** One-time codes that reset a member's password without email. */
export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  used_at: Iso | null;
  created_at: Iso;
}
