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
export function prepareDatabase(db: Database, durability: SqliteDurability, busyTimeoutMs: number): void {
  switchToWal(db, busyTimeoutMs)
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = OFF')
  db.transaction(() => db.exec(TABLES)).immediate()
}

/**
 * Two processes switching a new file to WAL at once both hold a shared lock and want an
 * exclusive one: SQLite answers one of them SQLITE_BUSY at once, without the busy timeout
 * (waiting there could deadlock). The mode is stored in the file, so once the other process
 * has switched it, asking again succeeds; until the busy timeout, ask again after a pause.
 */
function switchToWal(db: Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err
      pauseSync(Math.min(50, attempt * 2))
    }
  }
}

const pauseCell = new Int32Array(new SharedArrayBuffer(4))

/** Blocks the thread for `ms` (the store's constructor is synchronous). */
function pauseSync(ms: number): void {
  Atomics.wait(pauseCell, 0, 0, ms)
}
