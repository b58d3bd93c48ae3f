import type { Database, Statement } from 'better-sqlite3'
import { StorageError, isOmniscientError } from '../../errors.js'
import { parseStoredJson } from '../../safeData.js'
import { encodedRange, findCursor, parseFindCursor } from '../kit/indexValue.js'
import { assertCurrentTerm } from '../kit/leaseRules.js'
import {
  documentPage,
  pageSize,
  type CommitOutcome,
  type DocumentPage,
  type FindOptions,
  type ListOptions,
  type ReadModelBatch,
  type ReadModelInfo,
  type ReadModelStorage,
} from '../../read/ReadModelStorage.js'

// WITHOUT ROWID: every table is read by its primary key, so the rows live in that b-tree.
// read_index holds each document's declared index values, one row per (index, value), so
// `find` is a range scan of one b-tree instead of a scan of the documents.
const TABLES = `
CREATE TABLE IF NOT EXISTS read_models (
  model TEXT NOT NULL, version INTEGER NOT NULL, checkpoint INTEGER NOT NULL,
  PRIMARY KEY (model, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_active (model TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_documents (
  model TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY (model, version, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS read_index (
  model TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, key TEXT NOT NULL,
  PRIMARY KEY (model, version, name, value, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS read_index_by_key ON read_index (model, version, key);
`

// The version a query reads: the one asked for, else the active one, in the same statement.
const VERSION = 'coalesce(?, (SELECT version FROM read_active WHERE model = ?))'

/**
 * Read models in the SqliteStore's file, on its connection: a batch's documents, index rows,
 * checkpoint, activation and lease check are one IMMEDIATE transaction.
 *
 * @example
 * const storage = new SqliteStore({ file: './.data/app.db' }).readModels()
 */
export class SqliteReadModelStorage implements ReadModelStorage {
  readonly atomic = true
  private readonly sql: {
    versions: Statement<[string], { version: number; checkpoint: number }>
    active: Statement<[string], { version: number }>
    activeCheckpoint: Statement<[string, string], { checkpoint: number }>
    checkpoint: Statement<[string, number], { checkpoint: number }>
    lease: Statement<[string], { holder: string; term: number; expires_at: number }>
    upsertDoc: Statement<[string, number, string, string, number]>
    deleteDoc: Statement<[string, number, string]>
    deleteIndex: Statement<[string, number, string]>
    insertIndex: Statement<[string, number, string, string, string]>
    saveCheckpoint: Statement<[string, number, number]>
    activate: Statement<[string, number]>
    read: Statement<[string, number, string], { doc: string; position: number }>
    get: Statement<[string, number | null, string, string], { doc: string }>
    listFirst: Statement<[string, number | null, string, number], { key: string; doc: string }>
    listAfter: Statement<[string, number | null, string, string, number], { key: string; doc: string }>
    dropDocs: Statement<[string, number]>
    dropIndex: Statement<[string, number]>
    dropVersion: Statement<[string, number]>
  }
  private readonly finds = new Map<string, Statement<unknown[], { key: string; value: string; doc: string }>>()
  private readonly commitNow: (batch: ReadModelBatch) => CommitOutcome

  constructor(
    private readonly db: Database,
    private readonly assertOpen: () => void = () => {},
  ) {
    this.run(() => db.transaction(() => db.exec(TABLES)).immediate())
    this.sql = {
      versions: db.prepare('SELECT version, checkpoint FROM read_models WHERE model = ? ORDER BY version'),
      active: db.prepare('SELECT version FROM read_active WHERE model = ?'),
      activeCheckpoint: db.prepare('SELECT checkpoint FROM read_models WHERE model = ? AND version = (SELECT version FROM read_active WHERE model = ?)'),
      checkpoint: db.prepare('SELECT checkpoint FROM read_models WHERE model = ? AND version = ?'),
      lease: db.prepare('SELECT holder, term, expires_at FROM leases WHERE name = ?'),
      upsertDoc: db.prepare(
        'INSERT INTO read_documents (model, version, key, doc, position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, version, key) DO UPDATE SET doc = excluded.doc, position = excluded.position',
      ),
      deleteDoc: db.prepare('DELETE FROM read_documents WHERE model = ? AND version = ? AND key = ?'),
      deleteIndex: db.prepare('DELETE FROM read_index WHERE model = ? AND version = ? AND key = ?'),
      insertIndex: db.prepare('INSERT OR REPLACE INTO read_index (model, version, name, value, key) VALUES (?, ?, ?, ?, ?)'),
      saveCheckpoint: db.prepare('INSERT OR REPLACE INTO read_models (model, version, checkpoint) VALUES (?, ?, ?)'),
      activate: db.prepare('INSERT OR REPLACE INTO read_active (model, version) VALUES (?, ?)'),
      read: db.prepare('SELECT doc, position FROM read_documents WHERE model = ? AND version = ? AND key = ?'),
      get: db.prepare(`SELECT doc FROM read_documents WHERE model = ? AND version = ${VERSION} AND key = ?`),
      listFirst: db.prepare(`SELECT key, doc FROM read_documents WHERE model = ? AND version = ${VERSION} ORDER BY key LIMIT ?`),
      listAfter: db.prepare(`SELECT key, doc FROM read_documents WHERE model = ? AND version = ${VERSION} AND key > ? ORDER BY key LIMIT ?`),
      dropDocs: db.prepare('DELETE FROM read_documents WHERE model = ? AND version = ?'),
      dropIndex: db.prepare('DELETE FROM read_index WHERE model = ? AND version = ?'),
      dropVersion: db.prepare('DELETE FROM read_models WHERE model = ? AND version = ?'),
    }
    const apply = db.transaction((batch: ReadModelBatch) => this.apply(batch))
    // A read model is rebuilt from the log, so its commits need not wait for the disk: without
    // the fsync a power loss may take the last batches back, documents and checkpoint together
    // (WAL keeps them one transaction), and they are applied again. Appends keep the store's
    // setting: it is restored right after, on this same synchronous connection.
    const storeSetting = Number(db.pragma('synchronous', { simple: true }))
    this.commitNow =
      storeSetting <= 1
        ? (batch) => apply.immediate(batch)
        : (batch) => {
            db.pragma('synchronous = NORMAL')
            try {
              return apply.immediate(batch)
            } finally {
              db.pragma(`synchronous = ${storeSetting}`)
            }
          }
  }

  async info(model: string): Promise<ReadModelInfo> {
    return this.run(() => ({ active: this.sql.active.get(model)?.version, versions: this.sql.versions.all(model) }))
  }

  async activeCheckpoint(model: string): Promise<number> {
    return this.run(() => this.sql.activeCheckpoint.get(model, model)?.checkpoint ?? 0)
  }

  async commit(batch: ReadModelBatch): Promise<CommitOutcome> {
    return this.run(() => this.commitNow(batch))
  }

  // Inside the IMMEDIATE transaction: no other process writes between the checks and the writes.
  private apply(batch: ReadModelBatch): CommitOutcome {
    const { model, version } = batch
    if (batch.lease) {
      const row = this.sql.lease.get(batch.lease.name)
      assertCurrentTerm(row && { name: batch.lease.name, holder: row.holder, term: row.term, expiresAt: row.expires_at }, batch.lease.name, batch.lease.term)
    }
    if ((this.sql.checkpoint.get(model, version)?.checkpoint ?? 0) !== batch.from) return 'stale'
    if (batch.activate && (this.sql.active.get(model)?.version ?? 0) > version) return 'stale'
    for (const w of batch.writes) {
      this.sql.deleteIndex.run(model, version, w.key)
      if (w.doc === undefined) {
        this.sql.deleteDoc.run(model, version, w.key)
        continue
      }
      this.sql.upsertDoc.run(model, version, w.key, JSON.stringify(w.doc), w.position)
      for (const name in w.index) this.sql.insertIndex.run(model, version, name, w.index[name]!, w.key)
    }
    this.sql.saveCheckpoint.run(model, version, batch.to)
    if (batch.activate) this.sql.activate.run(model, version)
    return 'committed'
  }

  async read(model: string, version: number, key: string): Promise<{ doc: unknown; position: number } | undefined> {
    const row = this.run(() => this.sql.read.get(model, version, key))
    return row && { doc: parseStoredJson(row.doc), position: row.position }
  }

  async get(model: string, key: string, version?: number): Promise<unknown> {
    const row = this.run(() => this.sql.get.get(model, version ?? null, model, key))
    return row && parseStoredJson(row.doc)
  }

  async list(model: string, options: ListOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const version = options.version ?? null
    const rows = this.run(() =>
      options.after === undefined ? this.sql.listFirst.all(model, version, model, limit + 1) : this.sql.listAfter.all(model, version, model, options.after, limit + 1),
    )
    return documentPage(rows, limit, (r) => r.doc, (last) => last.key)
  }

  async find(model: string, index: string, options: FindOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const range = encodedRange(options)
    const desc = options.order === 'desc'
    const after = options.after === undefined ? undefined : parseFindCursor(options.after)
    const where = ['i.model = ?', `i.version = ${VERSION}`, 'i.name = ?']
    const params: unknown[] = [model, options.version ?? null, model, index]
    if (range.lower) {
      where.push(`i.value ${range.lower.inclusive ? '>=' : '>'} ?`)
      params.push(range.lower.value)
    }
    if (range.upper) {
      where.push(`i.value ${range.upper.inclusive ? '<=' : '<'} ?`)
      params.push(range.upper.value)
    }
    if (after) {
      where.push(`(i.value, i.key) ${desc ? '<' : '>'} (?, ?)`)
      params.push(after.value, after.key)
    }
    const dir = desc ? 'DESC' : 'ASC'
    const text = `SELECT i.key AS key, i.value AS value, d.doc AS doc FROM read_index i JOIN read_documents d ON d.model = i.model AND d.version = i.version AND d.key = i.key WHERE ${where.join(' AND ')} ORDER BY i.value ${dir}, i.key ${dir} LIMIT ?`
    params.push(limit + 1)
    const rows = this.run(() => {
      let statement = this.finds.get(text)
      if (!statement) this.finds.set(text, (statement = this.db.prepare(text)))
      return statement.all(...params)
    })
    return documentPage(rows, limit, (r) => r.doc, (last) => findCursor(last.value, last.key))
  }

  async drop(model: string, version: number): Promise<void> {
    this.run(() =>
      this.db
        .transaction(() => {
          if (this.sql.active.get(model)?.version === version) return
          this.sql.dropIndex.run(model, version)
          this.sql.dropDocs.run(model, version)
          this.sql.dropVersion.run(model, version)
        })
        .immediate(),
    )
  }

  private run<T>(work: () => T): T {
    this.assertOpen()
    try {
      return work()
    } catch (err) {
      if (isOmniscientError(err) || err instanceof RangeError) throw err
      const code = (err as { code?: unknown }).code
      throw new StorageError(`SQLite read model storage failed: ${(err as Error).message}`, { cause: err, code: code === 'SQLITE_BUSY' ? 'STORAGE_BUSY' : 'STORAGE' })
    }
  }
}
