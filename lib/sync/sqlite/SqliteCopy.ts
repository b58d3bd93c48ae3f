import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database, Statement } from 'better-sqlite3'
import type { EventEnvelope } from '../../envelope.js'
import { parseStoredJson } from '../../safeData.js'
import { parseSnapshotText } from '../../store/kit/snapshotText.js'
import type { Snapshot } from '../../store/StorageAdapter.js'
import type { LocalCopy, QueuedAppend, ServerLimits } from '../local/LocalCopy.js'
import { toEnvelope } from '../protocol.js'

/**
 * A RemoteStore's local copy in one SQLite file, for Node: what was read survives a restart (a
 * Load fetches only the tail) and so do queued appends (each is sent again, once, after a
 * crash). One process per file: it is this device's copy, not a shared store.
 *
 * @example
 * const store = new RemoteStore({ url, token, local: new SqliteCopy({ file: './.data/device.db' }) })
 */
export class SqliteCopy implements LocalCopy {
  private readonly db: Database
  // Prepared once: keep, enqueue and dequeue run on every append and every live event.
  private readonly sql: {
    readonly knownVersion: Statement<[string], { v: number | null }>
    readonly page: Statement<[string, number, number], { envelope: string }>
    readonly insert: Statement<[string, number, string]>
    readonly saveSnapshot: Statement<[string, string, string]>
    readonly loadSnapshot: Statement<[string, string], { body: string }>
    readonly saveCheckpoint: Statement<[string, number]>
    readonly loadCheckpoint: Statement<[string], { position: number }>
    readonly enqueue: Statement<[string]>
    readonly dequeue: Statement<[number]>
    readonly queued: Statement<[], { seq: number; body: string }>
    readonly saveLimits: Statement<[string]>
    readonly loadLimits: Statement<[], { body: string }>
  }

  constructor(options: { readonly file: string }) {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true })
    this.db = new BetterSqlite3(options.file)
    this.db.pragma('journal_mode = WAL')
    // FULL: a queued append is on disk before the Fire is sent, so a crash cannot lose it.
    this.db.pragma('synchronous = FULL')
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (stream_id TEXT NOT NULL, version INTEGER NOT NULL, envelope TEXT NOT NULL, PRIMARY KEY (stream_id, version)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS snapshots (actor_type TEXT NOT NULL, stream_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (actor_type, stream_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS server_limits (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
    `)
    this.sql = {
      knownVersion: this.db.prepare('SELECT MAX(version) AS v FROM events WHERE stream_id = ?'),
      page: this.db.prepare('SELECT envelope FROM events WHERE stream_id = ? AND version >= ? AND version <= ? ORDER BY version LIMIT 512'),
      insert: this.db.prepare('INSERT OR IGNORE INTO events (stream_id, version, envelope) VALUES (?, ?, ?)'),
      saveSnapshot: this.db.prepare('INSERT OR REPLACE INTO snapshots (actor_type, stream_id, body) VALUES (?, ?, ?)'),
      loadSnapshot: this.db.prepare('SELECT body FROM snapshots WHERE actor_type = ? AND stream_id = ?'),
      saveCheckpoint: this.db.prepare('INSERT OR REPLACE INTO checkpoints (name, position) VALUES (?, ?)'),
      loadCheckpoint: this.db.prepare('SELECT position FROM checkpoints WHERE name = ?'),
      enqueue: this.db.prepare('INSERT INTO queue (body) VALUES (?)'),
      dequeue: this.db.prepare('DELETE FROM queue WHERE seq = ?'),
      queued: this.db.prepare('SELECT seq, body FROM queue ORDER BY seq'),
      saveLimits: this.db.prepare('INSERT OR REPLACE INTO server_limits (id, body) VALUES (1, ?)'),
      loadLimits: this.db.prepare('SELECT body FROM server_limits WHERE id = 1'),
    }
  }

  private known(streamId: string): number {
    return this.sql.knownVersion.get(streamId)?.v ?? 0
  }

  async knownVersion(streamId: string): Promise<number> {
    return this.known(streamId)
  }

  async *readStream(streamId: string, fromVersion: number, toVersion: number): AsyncIterable<EventEnvelope> {
    for (let from = fromVersion; from <= toVersion; ) {
      const rows = this.sql.page.all(streamId, from, toVersion)
      for (const row of rows) yield toEnvelope(parseStoredJson(row.envelope))
      if (rows.length < 512) return
      from += rows.length
    }
  }

  async keep(streamId: string, events: readonly EventEnvelope[]): Promise<void> {
    this.db.transaction(() => {
      // Only what continues the known prefix: the copy never holds a stream with a hole.
      let known = this.known(streamId)
      for (const event of events) {
        if (event.version !== known + 1) continue
        this.sql.insert.run(streamId, event.version, JSON.stringify(event))
        known++
      }
    })()
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.sql.saveSnapshot.run(snapshot.actorType, snapshot.streamId, JSON.stringify(snapshot))
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    const row = this.sql.loadSnapshot.get(actorType, streamId)
    return row ? parseSnapshotText(row.body, actorType, streamId) : undefined
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    this.sql.saveCheckpoint.run(name, position)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    return this.sql.loadCheckpoint.get(name)?.position
  }

  async enqueue(append: Omit<QueuedAppend, 'seq'>): Promise<QueuedAppend> {
    const { lastInsertRowid } = this.sql.enqueue.run(JSON.stringify(append))
    return { ...append, seq: Number(lastInsertRowid) }
  }

  async dequeue(seq: number): Promise<void> {
    this.sql.dequeue.run(seq)
  }

  async queued(): Promise<QueuedAppend[]> {
    return this.sql.queued.all().map((row) => ({ ...(parseStoredJson(row.body) as Omit<QueuedAppend, 'seq'>), seq: row.seq }))
  }

  async saveLimits(limits: ServerLimits): Promise<void> {
    this.sql.saveLimits.run(JSON.stringify(limits))
  }

  async loadLimits(): Promise<ServerLimits | undefined> {
    const row = this.sql.loadLimits.get()
    return row ? (parseStoredJson(row.body) as ServerLimits) : undefined
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}
