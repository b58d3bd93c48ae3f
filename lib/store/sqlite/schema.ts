import type { Database } from 'better-sqlite3'

// position is the rowid: SQLite has one writer at a time, so rowids become visible in commit
// order and a reader that has seen position n has seen every committed position below it.
const TABLES = `
CREATE TABLE IF NOT EXISTS events (
  position       INTEGER PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  stream_id      TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  name           TEXT    NOT NULL,
  data           TEXT    NOT NULL,
  schema_version INTEGER NOT NULL,
  at             INTEGER NOT NULL,
  meta           TEXT    NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS snapshots (
  actor_type       TEXT    NOT NULL,
  stream_id        TEXT    NOT NULL,
  snapshot_version INTEGER NOT NULL,
  version          INTEGER NOT NULL,
  state            TEXT    NOT NULL,
  at               INTEGER NOT NULL,
  PRIMARY KEY (actor_type, stream_id)
);
CREATE TABLE IF NOT EXISTS leases (
  name       TEXT    PRIMARY KEY,
  holder     TEXT    NOT NULL,
  term       INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT    PRIMARY KEY,
  position INTEGER NOT NULL
);
`

/** How much a commit survives: `full` survives power loss; `normal` may lose the last commits. */
export type SqliteDurability = 'full' | 'normal'

/**
 * Puts a freshly opened connection in the mode the store relies on and creates the tables.
 * Safe when several processes open the same new file at once: the DDL runs in one IMMEDIATE
 * transaction and is idempotent.
 */
export function prepareDatabase(db: Database, durability: SqliteDurability): void {
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = OFF')
  db.transaction(() => db.exec(TABLES)).immediate()
}
