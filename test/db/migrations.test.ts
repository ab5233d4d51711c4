import { describe, expect, it } from "vitest";
import { migrateToLatest } from "../../db/migrate.ts";
import { migrations } from "../../db/migrations/index.ts";
import { dialects, freshDatabase } from "../helpers/databases.ts";
import { tableColumns } from "../helpers/scan.ts";

const expectedTables = [
  "actor_keys",
  "actors",
  "answer_marks",
  "appeals",
  "clinician_badges",
  "communities",
  "community_bans",
  "community_moderators",
  "deliveries",
  "domain_allows",
  "domain_blocks",
  "email_digests",
  "erasures",
  "exports",
  "fedify_kv",
  "fedify_queue",
  "follows",
  "gone_posts",
  "hidden_posts",
  "instance_settings",
  "invites",
  "likes",
  "media",
  "media_deletions",
  "member_filters",
  "moderation_actions",
  "notification_preferences",
  "notifications",
  "password_resets",
  "policy_version",
  "post_mentions",
  "post_recipients",
  "post_tags",
  "posts",
  "questions",
  "rate_limits",
  "recovery_codes",
  "registration_applications",
  "remote_counts",
  "remote_refreshes",
  "report_posts",
  "reports",
  "sessions",
  "users",
  "warning_categories",
  "warning_preferences",
];

/** SQLite's full-text search (FTS5) keeps its index in tables of its own; PostgreSQL indexes a column. */
const sqliteSearchTables = [
  "post_search",
  "post_search_config",
  "post_search_content",
  "post_search_data",
  "post_search_docsize",
  "post_search_idx",
  "post_search_keys",
  "post_search_scratch",
  "post_search_text",
];

describe.each(dialects)("migrations on %s", (dialect) => {
  it("creates every table from an empty database and is idempotent", async () => {
    const database = await freshDatabase(dialect, false);
    try {
      const first = await migrateToLatest(database.db);
      expect(first.applied).toEqual(Object.keys(migrations));
      // Only this database's own tables (introspection would read, and trip over, every schema on the server).
      const tables = [...(await tableColumns(database.db)).keys()].filter((n) => !n.startsWith("kysely_")).sort();
      expect(tables).toEqual(dialect === "sqlite" ? [...expectedTables, ...sqliteSearchTables].sort() : expectedTables);
      expect((await migrateToLatest(database.db)).applied).toEqual([]);
    } finally {
      await database.drop();
    }
  });

  it("enforces one namespace for users and communities per host", async () => {
    const database = await freshDatabase(dialect);
    try {
      const row = (id: string, username: string) => ({
        id,
        iri: `http://x/@${id}`,
        type: "Person" as const,
        username,
        username_key: username.toLowerCase(),
        host: "x",
        local: 1 as const,
        manually_approves_followers: 0 as const,
        discoverable: 1 as const,
        created_at: "2026-01-01T00:00:00.000Z",
        updated_at: "2026-01-01T00:00:00.000Z",
      });
      await database.db.insertInto("actors").values(row("a", "Alice")).execute();
      await expect(database.db.insertInto("actors").values(row("b", "alice")).execute()).rejects.toThrow();
      expect((await database.db.selectFrom("actors").select("id").execute()).length).toBe(1);
    } finally {
      await database.drop();
    }
  });
});
