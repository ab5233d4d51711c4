// Table types of notification preferences (issue 12). Part of db/schema.ts.

/** A member's choice for one kind of notification; a kind with no row is on. */
export interface NotificationPreferencesTable {
  user_id: string;
  kind: string;
  /** 0 to stop this kind; 1 to receive it. */
  enabled: number;
}
