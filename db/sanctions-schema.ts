// Table types of account sanctions and password resets (issue 13). Part of db/schema.ts.
import type { Iso } from "./scalars.ts";

/** A single-use link to set a new password, mailed to the address on file. */
export interface PasswordResetsTable {
  /** SHA-256 of the token in the link. */
  token_hash: string;
  user_id: string;
  created_at: Iso;
  expires_at: Iso;
  used_at: Iso | null;
}
