import { v7 as uuidv7 } from "uuid";

/** Time-ordered ids: they sort by creation, so they double as pagination cursors. */
export const newId = (): string => uuidv7();

/** Timestamps are stored as ISO-8601 UTC strings (see db/schema.ts). */
export const now = (): string => new Date().toISOString();
