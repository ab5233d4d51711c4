// Table types of content-warning categories (issue 13). Part of db/schema.ts.
import type { Bool, Iso } from "./scalars.ts";

export interface WarningCategoriesTable {
  id: string;
  community_id: string;
  label: string;
  /** Lower-cased label: unique in its community. */
  label_key: string;
  description: string;
  /** Threads carrying it show the crisis resources. */
  crisis: Bool;
  created_at: Iso;
}

export type WarningChoice = "expand" | "collapse" | "hide";

export interface WarningPreferencesTable {
  user_id: string;
  category_id: string;
  choice: WarningChoice;
}

export type WarningRequirement = "never" | "threads" | "all";
