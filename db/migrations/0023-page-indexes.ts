import { type Kysely, sql } from "kysely";

// Indexes the pages need as the data grows (issue 14, item 7; `npm run bench`).
// Both are partial, so SQLite and PostgreSQL keep them small: only the rows
// pages list (not deleted, not removed).
// - The directory and the home page count each community's recent threads:
//   (community_id, parent_id, published_at) answers from the index alone, where
//   the first index (community_id, parent_id, id) made them read every thread
//   row to test deleted_at and published_at. The directory's latest post of a
//   community is the last entry of (community_id, published_at).
// - A community's threads newest first: PostgreSQL walked the primary key
//   backwards, filtering, rather than the (community_id, parent_id, id) index
//   with its `IS NULL`; (community_id, id) over threads alone is an ordered range.
// - A community's pinned threads, read for every first page: a handful of rows,
//   where the thread indexes made SQLite test every thread of the community.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX posts_community_recent ON posts (community_id, parent_id, published_at)
    WHERE deleted_at IS NULL AND removed_at IS NULL`.execute(db);
  await sql`CREATE INDEX posts_community_latest ON posts (community_id, published_at)
    WHERE deleted_at IS NULL AND removed_at IS NULL`.execute(db);
  await sql`CREATE INDEX posts_community_listing ON posts (community_id, id) WHERE parent_id IS NULL`.execute(db);
  await sql`CREATE INDEX posts_community_pinned ON posts (community_id, pinned_at)
    WHERE pinned_at IS NOT NULL`.execute(db);
}
