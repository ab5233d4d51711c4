// Tables of full-text search (db/migrations/0011-search.ts). SQLite only: the
// FTS5 table `post_search` (columns title, body) takes its rowids from these
// keys; PostgreSQL has a generated `posts.search_vector` column instead.

export interface PostSearchKeysTable {
  rowid: number;
  post_id: string;
}
