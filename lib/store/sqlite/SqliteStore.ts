import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Database, Statement } from 'better-sqlite3'
import { storedEnvelope, type EventEnvelope, type NewEvent } from '../../envelope.js'
import { InvalidOptionsError, SnapshotCorruptError, StorageError, StoreClosedError, isOmniscientError } from '../../errors.js'
import { checkOptions } from '../../checkOptions.js'
import { rejected } from '../../rejected.js'
import { parseStoredJson } from '../../safeData.js'
import { assertExpectedVersion, storedBatch } from '../kit/appendRules.js'
import { checkAppend, checkCheckpoint, checkIdentifier, checkLease, checkReadAll, checkReadStream } from '../kit/arguments.js'
import { assertCurrentTerm, leaseAfterAcquire, leaseAfterRelease, leaseAfterRenew } from '../kit/leaseRules.js'
import type {
  AppendOptions,
  AppendResult,
  ExpectedVersion,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from '../StorageAdapter.js'
import { encodeEvent, type EncodedEvent } from '../kit/eventJson.js'
import { CommitSignal } from '../kit/CommitSignal.js'
import { SharedTail } from '../kit/SharedTail.js'
import { envelopeFromText, type StoredEventText, type StoredTextReader } from '../kit/storedText.js'
import type { SubscribeOptions, Subscription, SubscriptionHandler } from '../Subscription.js'
import { GroupCommit, type Outcome } from '../kit/GroupCommit.js'
import { FileGuard } from './FileGuard.js'
import { prepareDatabase, type SqliteDurability } from './schema.js'
import type { CheckpointState, ListStreamsOptions, StreamInfo } from '../StoreCatalog.js'
import { sqliteListCheckpoints, sqliteListLeases, sqliteListStreams } from './storeCatalog.js'
import type { ReadModelStorage, ReadModelStorageProvider } from '../../read/ReadModelStorage.js'
import { SqliteReadModelStorage } from './SqliteReadModelStorage.js'

/** Options of `SqliteStore`. */
export interface SqliteStoreOptions {
  /** Path of the database file; its folder is created if missing. `':memory:'` for a private one. */
  readonly file: string
  /**
   * `'full'` (default): an append resolves only once it survives power loss.
   * `'normal'`: faster; a crash of the machine (not of the process) may lose the last commits,
   * never corrupt the file.
   */
  readonly durability?: SqliteDurability
  /** How long a write waits for another process's lock before failing, in ms. Default 10 s. */
  readonly busyTimeoutMs?: number
  /**
   * How often live subscriptions check for commits by other processes, in ms (default 2). The
   * check is one `PRAGMA data_version` and runs only while a subscription is waiting; commits
   * by this process wake subscriptions at once.
   */
  readonly pollIntervalMs?: number
}

// Every option, once: a new option left out of this object fails to compile.
const SQLITE_OPTIONS = Object.keys({ file: true, durability: true, busyTimeoutMs: true, pollIntervalMs: true } satisfies Record<keyof SqliteStoreOptions, true>)

interface AppendWork {
  readonly streamId: string
  readonly events: readonly NewEvent[]
  readonly encoded: readonly EncodedEvent[]
  readonly expectedVersion: ExpectedVersion
  readonly lease: AppendOptions['lease']
}

// Rows come named after StoredEventText's fields, so they need no mapping of their own.
const COLUMNS = 'position, id, stream_id AS streamId, version, name, data, schema_version AS schemaVersion, at, meta'
const PAGE = 4096

/**
 * The embedded default: one SQLite file in WAL mode, durable when an append resolves, safe for
 * several processes on one machine. Appends requested in the same event-loop turn share one
 * transaction (group commit).
 *
 * @example
 * const store = new SqliteStore({ file: './.data/app.db' })
 * const container = createContainer({ store })
 */
export class SqliteStore implements StorageAdapter, ReadModelStorageProvider, StoredTextReader {
  readonly file: string
  private readonly db: Database
  private readonly commits: GroupCommit<AppendWork, AppendResult>
  private readonly sql: {
    version: Statement<[string], { v: number | null }>
    byId: Statement<[string], StoredEventText>
    insert: Statement<[string, string, number, string, string, number, number, string]>
    stream: Statement<[string, number, number, number], StoredEventText>
    streamFromPosition: Statement<[string, number, number], StoredEventText>
    streamAfterVersion: Statement<[string, number, number], StoredEventText>
    dataVersion: Statement<[], number>
    all: Statement<[number, number], StoredEventText>
    head: Statement<[], { p: number | null }>
    saveSnapshot: Statement<[string, string, number, number, string, number]>
    loadSnapshot: Statement<[string, string], { snapshot_version: number; version: number; state: string; at: number }>
    saveCheckpoint: Statement<[string, number]>
    loadCheckpoint: Statement<[string], { position: number }>
    readLease: Statement<[string], { holder: string; term: number; expires_at: number }>
    writeLease: Statement<[string, string, number, number]>
  }
  private closed = false
  // Deleting the file under an open store loses appends: it notices (see FileGuard).
  private readonly guard: FileGuard | undefined
  private readonly changeLease: (name: string, change: (current: LeaseState | undefined) => LeaseState | undefined) => LeaseState | undefined
  private readonly signal: CommitSignal
  // One reader and one data_version poll for every subscription of this store.
  private readonly tail: SharedTail
  private readModelStorage: SqliteReadModelStorage | undefined

  constructor(options: SqliteStoreOptions) {
    checkOptions('SqliteStore', options, SQLITE_OPTIONS, ['file'])
    if (typeof options.file !== 'string' || options.file === '') {
      throw new InvalidOptionsError('SqliteStore', [], SQLITE_OPTIONS, `"file" must be the database file's path (or ':memory:'), got ${JSON.stringify(options.file)}`)
    }
    this.file = options.file
    let db: Database | undefined
    try {
      if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true })
      const busyTimeoutMs = options.busyTimeoutMs ?? 10_000
      db = new BetterSqlite3(options.file, { timeout: busyTimeoutMs })
      prepareDatabase(db, options.durability ?? 'full', busyTimeoutMs)
    } catch (err) {
      // Opened, then refused (not a database, locked...): close it, or each failed open keeps a descriptor.
      db?.close()
      throw new StorageError(`cannot open SQLite database "${options.file}": ${(err as Error).message}`, { cause: err })
    }
    this.db = db
    this.guard = options.file === ':memory:' ? undefined : new FileGuard(resolve(options.file), options.file)
    this.sql = {
      version: db.prepare('SELECT max(version) AS v FROM events WHERE stream_id = ?'),
      byId: db.prepare<[string], StoredEventText>(`SELECT ${COLUMNS} FROM events WHERE id = ?`),
      insert: db.prepare(
        'INSERT INTO events (id, stream_id, version, name, data, schema_version, at, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      stream: db.prepare<[string, number, number, number], StoredEventText>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND version >= ? AND version <= ? ORDER BY version LIMIT ?`),
      streamFromPosition: db.prepare<[string, number, number], StoredEventText>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND position >= ? ORDER BY version LIMIT ?`),
      streamAfterVersion: db.prepare<[string, number, number], StoredEventText>(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version LIMIT ?`),
      dataVersion: db.prepare('PRAGMA data_version').pluck() as Statement<[], number>,
      all: db.prepare<[number, number], StoredEventText>(`SELECT ${COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?`),
      head: db.prepare('SELECT max(position) AS p FROM events'),
      saveSnapshot: db.prepare(
        'INSERT OR REPLACE INTO snapshots (actor_type, stream_id, snapshot_version, version, state, at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      loadSnapshot: db.prepare('SELECT snapshot_version, version, state, at FROM snapshots WHERE actor_type = ? AND stream_id = ?'),
      saveCheckpoint: db.prepare('INSERT OR REPLACE INTO checkpoints (name, position) VALUES (?, ?)'),
      loadCheckpoint: db.prepare('SELECT position FROM checkpoints WHERE name = ?'),
      readLease: db.prepare('SELECT holder, term, expires_at FROM leases WHERE name = ?'),
      writeLease: db.prepare('INSERT OR REPLACE INTO leases (name, holder, term, expires_at) VALUES (?, ?, ?, ?)'),
    }
    // Each lease change reads and writes in one IMMEDIATE transaction: atomic across processes.
    this.changeLease = (name, change) =>
      db
        .transaction(() => {
          const next = change(this.leaseNow(name))
          if (next) this.sql.writeLease.run(name, next.holder, next.term, next.expiresAt)
          return next
        })
        .immediate()
    const appendOne = db.transaction((work: AppendWork) => this.appendNow(work))
    const appendGroup = db.transaction((works: readonly AppendWork[]) =>
      // A nested transaction is a savepoint: a refused append leaves the others intact.
      works.map((work) => {
        const outcome = this.outcome(work, () => appendOne(work))
        // Some failures (SQLITE_FULL, SQLITE_IOERR...) make SQLite roll the whole transaction
        // back, the appends already judged with it: end the group, so that every append of it
        // fails with that error rather than some being answered as stored.
        if (!outcome.ok && !db.inTransaction) throw outcome.error
        return outcome
      }),
    )
    // A group of one needs no savepoint: two statements fewer on the sequential path.
    const runBatch = (works: readonly AppendWork[]): Array<Outcome<AppendResult>> => {
      if (works.length === 1) return [this.outcome(works[0]!, () => appendOne.immediate(works[0]!))]
      try {
        return appendGroup.immediate(works)
      } catch (err) {
        // BEGIN or COMMIT failed (the lock stayed busy past the timeout, the disk is full...):
        // the group's transaction stored nothing, so each append fails with the typed error.
        const error = this.typed(err)
        return works.map(() => ({ ok: false, error }))
      }
    }
    this.commits = new GroupCommit((works) => {
      this.guard?.checkSometimes()
      const gone = this.guard?.gone
      if (gone) return works.map(() => ({ ok: false, error: gone }))
      const outcomes = runBatch(works)
      this.signal.notify()
      return outcomes
    }, { system: 'sqlite' })
    let seenDataVersion = this.sql.dataVersion.get()
    this.signal = new CommitSignal({
      everyMs: options.pollIntervalMs ?? 2,
      changed: () => {
        if (this.closed) return false
        const now = this.sql.dataVersion.get()
        const changed = now !== seenDataVersion
        seenDataVersion = now
        return changed
      },
    })
    this.tail = new SharedTail({ readPage: (from, limit, streamId, afterVersion) => this.readPage(from, limit, streamId, afterVersion), headPosition: () => this.headPosition(), commits: this.signal })
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    // Not `async`: the hot path would pay a second promise. Bad input still rejects, never throws.
    try {
      this.assertOpen()
      checkAppend(streamId, events, options)
      const encoded = events.map((event) => encodeEvent(streamId, event))
      return this.commits.submit({ streamId, events, encoded, expectedVersion: options.expectedVersion, lease: options.lease })
    } catch (err) {
      return rejected(err)
    }
  }

  // Runs inside the group's IMMEDIATE transaction, so no other process can write in between.
  // The common path is one indexed read and the inserts; ids are checked by the UNIQUE index.
  private appendNow(work: AppendWork): AppendResult {
    const { streamId } = work
    // Fencing, in the same transaction as the version check and the inserts.
    if (work.lease) assertCurrentTerm(this.leaseNow(work.lease.name), work.lease.name, work.lease.term)
    const current = this.sql.version.get(streamId)?.v ?? 0
    if (work.expectedVersion !== 'any' && work.expectedVersion !== current) {
      // A retry of a batch that did commit carries a stale expectedVersion: answer it from the store.
      const retried = this.storedBatchOf(work)
      if (retried) return retried
      assertExpectedVersion(streamId, work.expectedVersion, current)
    }
    const stored: EventEnvelope[] = []
    work.encoded.forEach((e, i) => {
      const version = current + i + 1
      const info = this.sql.insert.run(e.id, streamId, version, e.name, e.data, e.schemaVersion, e.at, e.meta)
      stored.push(storedEnvelope(work.events[i]!, streamId, version, Number(info.lastInsertRowid)))
    })
    return { events: stored, alreadyStored: false }
  }

  private storedBatchOf(work: AppendWork): AppendResult | undefined {
    const stored = storedBatch(work.streamId, work.events, (id) => {
      const row = this.sql.byId.get(id)
      return row && envelopeFromText(row)
    })
    return stored && { events: stored, alreadyStored: true }
  }

  // Runs one append; whatever failed was rolled back, so the store shows only what was there before.
  private outcome(work: AppendWork, run: () => AppendResult): Outcome<AppendResult> {
    try {
      return { ok: true, value: run() }
    } catch (error) {
      if (!isDuplicateId(error)) return { ok: false, error: this.typed(error, work.streamId) }
    }
    // An id is stored already: either this is a retry of a committed batch, or a misuse.
    try {
      const retried = this.storedBatchOf(work)
      if (retried) return { ok: true, value: retried }
      return { ok: false, error: new StorageError(`append to "${work.streamId}": an event id collided but is not stored`) }
    } catch (error) {
      return { ok: false, error: this.typed(error, work.streamId) }
    }
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadStream(streamId, options)
    let from = Math.max(1, options.fromVersion ?? 1)
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER
    for (;;) {
      // One page per query: no cursor stays open across an await, so the connection stays usable.
      const rows = this.query(() => this.sql.stream.all(streamId, from, to, PAGE))
      for (const row of rows) yield envelopeFromText(row)
      if (rows.length < PAGE) return
      from = rows[rows.length - 1]!.version + 1
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadAll(options)
    let from = Math.max(1, options.fromPosition ?? 1)
    for (;;) {
      const rows = this.query(() => this.sql.all.all(from, PAGE))
      for (const row of rows) yield envelopeFromText(row)
      if (rows.length < PAGE) return
      from = rows[rows.length - 1]!.position + 1
    }
  }

  /** The stored JSON text of up to `limit` events from `fromPosition` on (see StoredTextReader). */
  async readStoredText(fromPosition: number, limit: number): Promise<readonly StoredEventText[]> {
    checkReadAll({ fromPosition })
    const rows = this.query(() => this.sql.all.all(Math.max(1, fromPosition), limit))
    return rows
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    return this.tail.subscribe(options, handler)
  }

  // Following one stream from right after its event of `afterVersion`: continue by version
  // (the unique index) instead of filtering the stream's whole index by position.
  private readPage(from: number, limit: number, streamId: string | undefined, afterVersion: number | undefined): EventEnvelope[] {
    if (this.closed) return []
    const rows = this.query(() =>
      streamId === undefined
        ? this.sql.all.all(from, limit)
        : afterVersion !== undefined
          ? this.sql.streamAfterVersion.all(streamId, afterVersion, limit)
          : this.sql.streamFromPosition.all(streamId, from, limit),
    )
    return rows.map(envelopeFromText)
  }

  async streamVersion(streamId: string): Promise<number> {
    checkIdentifier(streamId, 'streamId')
    return this.query(() => this.sql.version.get(streamId)?.v ?? 0)
  }

  async headPosition(): Promise<number> {
    return this.query(() => this.sql.head.get()?.p ?? 0)
  }

  async saveSnapshot(s: Snapshot): Promise<void> {
    const state = JSON.stringify(s.state)
    this.query(() => this.sql.saveSnapshot.run(s.actorType, s.streamId, s.snapshotVersion, s.version, state, s.at))
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    const row = this.query(() => this.sql.loadSnapshot.get(actorType, streamId))
    if (!row) return undefined
    try {
      return { actorType, streamId, snapshotVersion: row.snapshot_version, version: row.version, state: parseStoredJson(row.state), at: row.at }
    } catch (err) {
      throw new SnapshotCorruptError(actorType, streamId, err)
    }
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { ttlMs })
    return this.query(() => this.changeLease(name, (current) => leaseAfterAcquire(current, name, owner, ttlMs, now))!)
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { term, ttlMs })
    return this.query(() => this.changeLease(name, (current) => leaseAfterRenew(current, name, owner, term, ttlMs, now))!)
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    checkLease(name, owner, now, { term })
    this.query(() => this.changeLease(name, (current) => leaseAfterRelease(current, owner, term, now)))
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    checkIdentifier(name, 'name')
    return this.query(() => this.leaseNow(name))
  }

  private leaseNow(name: string): LeaseState | undefined {
    const row = this.sql.readLease.get(name)
    return row && { name, holder: row.holder, term: row.term, expiresAt: row.expires_at }
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    checkCheckpoint(name, position)
    this.query(() => this.sql.saveCheckpoint.run(name, position))
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    checkCheckpoint(name)
    return this.query(() => this.sql.loadCheckpoint.get(name)?.position)
  }

  // Store-wide reads for tools (storeCatalog.ts).
  async listStreams(options?: ListStreamsOptions): Promise<readonly StreamInfo[]> {
    return this.query(() => sqliteListStreams(this.db, options))
  }

  async listLeases(): Promise<readonly LeaseState[]> {
    return this.query(() => sqliteListLeases(this.db))
  }

  async listCheckpoints(): Promise<readonly CheckpointState[]> {
    return this.query(() => sqliteListCheckpoints(this.db))
  }

  /** Read models in this file, on this connection (lib/read). */
  readModels(): ReadModelStorage {
    return (this.readModelStorage ??= new SqliteReadModelStorage(this.db, () => this.assertOpen()))
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.tail.close()
    this.closed = true
    this.guard?.close()
    await this.commits.drained()
    this.db.close()
  }

  private query<T>(run: () => T): T {
    this.assertOpen()
    try {
      return run()
    } catch (err) {
      throw this.typed(err)
    }
  }

  private typed(err: unknown, streamId?: string): unknown {
    if (isOmniscientError(err)) return err
    const where = streamId === undefined ? '' : ` on stream "${streamId}"`
    const raw = (err as { code?: unknown }).code
    const code = typeof raw === 'string' ? raw : ''
    return new StorageError(`SQLite failed${where}: ${(err as Error).message}`, {
      cause: err,
      code: code.startsWith('SQLITE_BUSY') ? 'STORAGE_BUSY' : code === 'SQLITE_FULL' ? 'STORAGE_FULL' : 'STORAGE',
    })
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(`SqliteStore "${this.file}"`)
    if (this.guard?.gone) throw this.guard.gone
  }
}

function isDuplicateId(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown }
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes('events.id')
}
