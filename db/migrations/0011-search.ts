import { type Kysely, PostgresAdapter, sql } from "kysely";

// Full-text search over posts (issue 12). Direct messages and deleted posts are
// never indexed (their text must not be findable, nor linger in an index after
// an erasure); removals are reversible, so removed posts stay indexed and the
// query leaves them out. Both indexes follow every write to `posts` by
// themselves (a generated column, triggers), so no write path can forget them.

/** HTML entities our sanitizer and remote servers commonly emit, decoded after tags are stripped. */
const entities: [string, string][] = [
  ["&lt;", "<"],
  ["&gt;", ">"],
  ["&quot;", '"'],
  ["&#39;", "'"],
  ["&#x27;", "'"],
  ["&nbsp;", " "],
  // Last, so `&amp;lt;` becomes the text `&lt;`, as a browser shows it.
  ["&amp;", "&"],
];
const decoded = (expr: string) =>
  entities.reduce((e, [from, to]) => `replace(${e}, '${from}', '${to.replace("'", "''")}')`, expr);

export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await postgres(db);
  else await sqlite(db);
}

async function postgres(db: Kysely<any>): Promise<void> {
  // Title weighs A, body B: ts_rank ranks a title match first. 'english' stems ("pains" finds "pain").
  // Entities stay encoded: PostgreSQL's parser reads them as entities, but would
  // take a decoded `<script>` written as text for a tag and drop it.
  const body = `regexp_replace(content_html, '<[^>]*>', ' ', 'g')`;
  await sql
    .raw(`ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  CASE WHEN audience = 'direct' OR deleted_at IS NOT NULL THEN NULL
  ELSE setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, ${body}), 'B') END
) STORED`)
    .execute(db);
  await sql`CREATE INDEX posts_search ON posts USING gin (search_vector)`.execute(db);
}

async function sqlite(db: Kysely<any>): Promise<void> {
  // FTS5 keeps its own copy of the title and the text of the body. Its rowids
  // are those of `post_search_keys`, not of `posts` (VACUUM may renumber a
  // table without an INTEGER PRIMARY KEY), so an update finds its row by key.
  await sql`CREATE TABLE post_search_keys (rowid INTEGER PRIMARY KEY, post_id TEXT NOT NULL UNIQUE)`.execute(db);
  await sql`CREATE VIRTUAL TABLE post_search USING fts5(
  title, body, tokenize = 'porter unicode61 remove_diacritics 2'
)`.execute(db);
  // Deleted text is overwritten in the index, not just marked (health data, erasure).
  await sql`INSERT INTO post_search(post_search, rank) VALUES ('secure-delete', 1)`.execute(db);
  // SQLite has no regexp_replace, and a trigger may not hold a WITH clause, but
  // a view may: the trigger puts the post in this scratch table (one row, or
  // all of them for the backfill) and reads its text through the view, which
  // strips tags one at a time.
  await sql`CREATE TABLE post_search_scratch (key INTEGER NOT NULL, html TEXT NOT NULL)`.execute(db);
  await sql
    .raw(`CREATE VIEW post_search_text AS
WITH RECURSIVE strip(key, done, rest) AS (
  SELECT key, '', html FROM post_search_scratch
  UNION ALL
  SELECT key, done || CASE WHEN instr(rest, '<') = 0 THEN rest ELSE substr(rest, 1, instr(rest, '<') - 1) || ' ' END,
    CASE WHEN instr(rest, '<') = 0 THEN ''
      WHEN instr(substr(rest, instr(rest, '<')), '>') = 0 THEN ''
      ELSE substr(rest, instr(rest, '<') + instr(substr(rest, instr(rest, '<')), '>')) END
  FROM strip WHERE rest <> ''
)
SELECT key, ${decoded("done")} AS body FROM strip WHERE rest = ''`)
    .execute(db);
  const indexable = (row: string) => `${row}.audience <> 'direct' AND ${row}.deleted_at IS NULL`;
  const add = `INSERT INTO post_search_keys(post_id) SELECT NEW.id WHERE ${indexable("NEW")};
  INSERT INTO post_search_scratch(key, html)
    SELECT rowid, NEW.content_html FROM post_search_keys WHERE post_id = NEW.id;
  INSERT INTO post_search(rowid, title, body) SELECT key, coalesce(NEW.title, ''), body FROM post_search_text;
  DELETE FROM post_search_scratch;`;
  const drop = `DELETE FROM post_search WHERE rowid = (SELECT rowid FROM post_search_keys WHERE post_id = OLD.id);
  DELETE FROM post_search_keys WHERE post_id = OLD.id;`;
  await sql.raw(`CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN\n${add}\nEND`).execute(db);
  await sql.raw(`CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN\n${drop}\nEND`).execute(db);
  // An edit replaces the indexed text; a deletion or a change to a direct audience only drops it.
  // One trigger for both steps, since SQLite promises no order between triggers.
  await sql
    .raw(`CREATE TRIGGER posts_search_update AFTER UPDATE OF title, content_html, audience, deleted_at ON posts
BEGIN\n${drop}\n${add}\nEND`)
    .execute(db);
  // Backfill what is already there, in id order.
  await sql
    .raw(`INSERT INTO post_search_keys(post_id) SELECT id FROM posts WHERE ${indexable("posts")} ORDER BY id`)
    .execute(db);
  await sql`INSERT INTO post_search_scratch(key, html)
    SELECT k.rowid, p.content_html FROM post_search_keys k JOIN posts p ON p.id = k.post_id`.execute(db);
  await sql`INSERT INTO post_search(rowid, title, body)
    SELECT t.key, coalesce(p.title, ''), t.body
    FROM post_search_text t JOIN post_search_keys k ON k.rowid = t.key JOIN posts p ON p.id = k.post_id`.execute(db);
  await sql`DELETE FROM post_search_scratch`.execute(db);
}
