// The two scalar conventions of the schema (db/schema.ts): timestamps are
// ISO-8601 UTC strings, booleans are the integers 0 and 1.
export type Bool = 0 | 1;
export type Iso = string;
