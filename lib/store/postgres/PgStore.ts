import type Pg from 'pg'
import { storedEnvelope, type EventEnvelope, type NewEvent } from '../../envelope.js'
import { ConcurrencyError, InvalidOptionsError, LeaseLostError, SnapshotCorruptError, StorageError, StoreClosedError, isOmniscientError } from '../../errors.js'
import { checkOptions } from '../../checkOptions.js'
import { rejected } from '../../rejected.js'
import { parseStoredJson } from '../../safeData.js'
import { storedBatch } from '../kit/appendRules.js'
import { checkAppend, checkCheckpoint, checkIdentifier, checkLease, checkReadAll, checkReadStream } from '../kit/arguments.js'
import { CommitSignal } from '../kit/CommitSignal.js'
import { encodeEvent } from '../kit/eventJson.js'
import { GroupCommit, type Outcome } from '../kit/GroupCommit.js'
import { leaseAfterAcquire, leaseAfterRelease, leaseAfterRenew } from '../kit/leaseRules.js'
import type {
  AppendOptions,
  AppendResult,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from '../StorageAdapter.js'
import { SharedTail } from '../kit/SharedTail.js'
import { pg } from './pgDriver.js'
import type { SubscribeOptions, Subscription, SubscriptionHandler } from '../Subscription.js'
import {
  checkedGroupCall,
  distinctStreamsCall,
  distinctStreamsResults,
  onDistinctStreams,
  type AppendWork,
  type DistinctStreamsRow,
  type GroupResult,
} from './appendGroup.js'
import { withDeadline } from '../kit/withDeadline.js'
import { DEFAULT_CALL_TIMEOUT_MS, PgCalls, discard, isConnectionLoss } from './PgCalls.js'
import { ident, migrate } from './schema.js'
import type { CheckpointState, ListStreamsOptions, StreamInfo } from '../StoreCatalog.js'
import { pgListCheckpoints, pgListLeases, pgListStreams } from './storeCatalog.js'
import type { ReadModelStorage, ReadModelStorageProvider } from '../../read/ReadModelStorage.js'
import { PgReadModelStorage } from './PgReadModelStorage.js'
import { envelopeFromText, type StoredEventText, type StoredTextReader } from '../kit/storedText.js'

/** Options of `PgStore`. */
export interface PgStoreOptions {
  /** `postgres://user@host:port/db`, or give `pool` options instead. */
  readonly connectionString?: string
  /** Options for pg's Pool (host, port, user, max...), merged over `connectionString`. */
  readonly pool?: Pg.PoolConfig
  /** The schema holding the tables, created on first use. Default `omniscient`. */
  readonly schema?: string
  /** Told about connection failures that the store recovers from (a restarted server). */
  readonly onError?: (err: unknown) => void
  /**
   * Appends as a prepared statement on each pooled connection. Default true; set false behind
   * a pooler that does not keep prepared statements (PgBouncer in transaction mode before 1.21).
   */
  readonly preparedStatements?: boolean
  /**
   * How long one call to the server may take, waiting for a connection included: an append, a
   * page of a read, a lease change, a checkpoint, a read model's batch. Default 5000 ms. Past
   * it the call fails with STORAGE_UNAVAILABLE (STORAGE_INDETERMINATE for an append, which may
   * have committed) and its connection is destroyed, never reused.
   */
  readonly callTimeoutMs?: number
}

// Every option, once: a new option left out of this object fails to compile.
const PG_OPTIONS = Object.keys({ connectionString: true, pool: true, schema: true, onError: true, preparedStatements: true, callTimeoutMs: true } satisfies Record<keyof PgStoreOptions, true>)

// Rows come named after StoredEventText's fields, bigints as float8 (JavaScript numbers), so
// they need no mapping of their own. A query ordering by position qualifies it
// (events.position): the bare name would be the float8 column and not use the index.
const COLUMNS = 'position::float8 AS position, id, stream_id AS "streamId", version, name, data, schema_version AS "schemaVersion", at::float8 AS at, meta'
const PAGE = 2_000
// How often the LISTEN connection is asked a `SELECT 1`: a connection that does not answer
// within callTimeoutMs is silent (a partition sends no RST) and is replaced.
const LISTEN_HEARTBEAT_MS = 2_000

const isUniqueViolation = (err: unknown) => (err as { code?: unknown }).code === '23505'

/**
 * The StorageAdapter on PostgreSQL, through a `pg` pool. Tables live in one schema (created
 * and migrated on first use). Appends of one event-loop turn are committed together by one
 * server-side function call (group commit); live subscriptions are woken by LISTEN/NOTIFY and
 * read the events from the table.
 *
 * @example
 * const store = new PgStore({ connectionString: process.env.DATABASE_URL, schema: 'shop' })
 * const container = createContainer({ store })
 */
export class PgStore implements StorageAdapter, ReadModelStorageProvider, StoredTextReader {
  readonly schema: string
  private readonly pool: Pg.Pool
  private readonly calls: PgCalls
  private readonly s: string
  private readonly channel: string
  // The start (the migration) under way, shared by the calls that wait for it; forgotten when
  // it fails, so that the next call starts again.
  private starting: Promise<void> | undefined
  private readonly commits: GroupCommit<AppendWork, AppendResult>
  private readonly signal = new CommitSignal()
  // One reader for every subscription of this store, woken by the one LISTEN connection.
  private readonly tail = new SharedTail({
    readPage: (from, limit, streamId, afterVersion) => this.readPage(from, limit, streamId, afterVersion),
    headPosition: () => this.headPosition(),
    commits: this.signal,
  })
  private listener: Pg.Client | undefined
  private closed = false
  // Set once the schema is migrated: appends then skip waiting on `ready`.
  private prepared = false
  // The fast path's prepared-statement name, or none (options.preparedStatements false).
  private readonly appendStatement: string | undefined
  private readModelStorage: PgReadModelStorage | undefined

  constructor(private readonly options: PgStoreOptions) {
    checkOptions('PgStore', options, PG_OPTIONS)
    this.schema = options.schema ?? 'omniscient'
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new StorageError(`schema name "${this.schema}" must be a plain SQL identifier`, { code: 'INVALID_SCHEMA' })
    }
    this.s = ident(this.schema)
    this.channel = `omniscient_${this.schema}`.slice(0, 63)
    this.appendStatement = options.preparedStatements === false ? undefined : `omniscient_append_${this.schema}`
    const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    if (!Number.isInteger(callTimeoutMs) || callTimeoutMs < 1) {
      throw new InvalidOptionsError('PgStore', [], PG_OPTIONS, `"callTimeoutMs" must be a positive whole number of milliseconds, got ${String(callTimeoutMs)}`)
    }
    // A connection attempt is part of a call: it gets no longer than the call itself. Keepalive
    // lets the kernel notice a dead peer on an idle pooled connection.
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 10, connectionTimeoutMillis: callTimeoutMs, keepAlive: true, ...options.pool })
    this.calls = new PgCalls(this.pool, callTimeoutMs)
    // An idle client that loses its connection is reported, never a crash of the process.
    this.pool.on('error', (err) => this.report(err))
    this.ready().catch(() => undefined)
    // Two groups at once: this process prepares and answers one while the server stores the
    // other (the append lock serialises them there). One stream never in both: order kept.
    this.commits = new GroupCommit((works) => this.appendGroup(works), { inFlight: 2, keyOf: (work) => work.streamId, system: 'postgresql' })
  }

  /**
   * Resolves once the schema is migrated. Calls meanwhile share one attempt, so the migration
   * never runs twice at once here; one that failed (the server unreachable, the deadline past)
   * is tried again by the next call, not kept for the life of the store.
   */
  private ready(): Promise<void> {
    if (this.prepared) return Promise.resolve()
    this.starting ??= this.prepare().catch((err: unknown) => {
      this.starting = undefined
      // Cancelled by the statement_timeout below: the server's side of the same deadline.
      if ((err as { code?: unknown }).code === '57014') throw new StorageError(`PostgreSQL migration of schema "${this.schema}": not done within ${this.calls.timeoutMs} ms (callTimeoutMs)`, { cause: err, code: 'STORAGE_UNAVAILABLE' })
      throw this.typed(err, `migration of schema "${this.schema}"`)
    })
    return this.starting
  }

  private async prepare(): Promise<void> {
    // One call, under callTimeoutMs like any other: past it the connection is destroyed.
    await this.calls.withClient(`migration of schema "${this.schema}"`, 'STORAGE_UNAVAILABLE', async (client) => {
      // The server gives up too: a statement left waiting for the migration lock (or rebuilding
      // an index) on a connection the deadline destroyed would otherwise hold its backend, and
      // its locks, until it is done; each retry would add one more.
      await client.query(`SET statement_timeout = ${this.calls.timeoutMs}`)
      await migrate(client, this.schema)
      await client.query('RESET statement_timeout')
    })
    this.prepared = true
  }

  append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    // Not `async`: once the schema is ready, the hot path goes straight to the group commit.
    try {
      this.assertOpen()
      checkAppend(streamId, events, options)
      const encoded = events.map((e) => encodeEvent(streamId, e))
      const work: AppendWork = { streamId, events, encoded, options }
      const submitted = this.prepared ? this.commits.submit(work) : this.ready().then(() => this.commits.submit(work))
      // The whole append, waiting behind a group still in flight included, gets one deadline.
      // Still queued then, it may yet be sent: so it may or may not be stored.
      return withDeadline(() => submitted, this.calls.timeoutMs, () => new StorageError(`PostgreSQL append to "${streamId}": not settled within ${this.calls.timeoutMs} ms (callTimeoutMs); it may or may not be stored`, { code: 'STORAGE_INDETERMINATE' }))
    } catch (err) {
      return rejected(err)
    }
  }

  private async appendGroup(works: readonly AppendWork[], checked = false): Promise<Array<Outcome<AppendResult>>> {
    let results: GroupResult[]
    try {
      results = await this.storeGroup(works, checked)
    } catch (err) {
      // One statement stores the whole group, so one append the server refuses fails them all
      // (two appends sharing an id; anything the argument checks did not foresee). The
      // statement stored nothing: run each append on its own, to its own outcome.
      if (works.length > 1 && !isOmniscientError(err) && !isConnectionLoss(err)) {
        const alone = (w: AppendWork) => this.appendGroup([w], true).catch((error: unknown): Array<Outcome<AppendResult>> => [{ ok: false, error }])
        return (await Promise.all(works.map(alone))).flat()
      }
      // Lost mid-commit: it may or may not have been stored. Retrying with the same ids is safe.
      throw this.typed(err, `append of ${works.length} batch(es)`, 'STORAGE_INDETERMINATE')
    }
    this.signal.notify()
    // Stored appends are answered at once; only a refused one may need a read (is it a retry?).
    const outcomes: Array<Outcome<AppendResult>> = []
    const refusals: Array<Promise<void>> = []
    works.forEach((work, i) => {
      const result = results[i]!
      if ('positions' in result) {
        const events = work.events.map((e, k) => storedEnvelope(e, work.streamId, result.firstVersion + k, Number(result.positions[k])))
        outcomes[i] = { ok: true, value: { events, alreadyStored: false } }
      } else {
        refusals.push(this.refusal(work, result).then((outcome) => void (outcomes[i] = outcome)))
      }
    })
    if (refusals.length > 0) await Promise.all(refusals)
    return outcomes
  }

  /**
   * Stores a group with one statement in autocommit: the server runs and commits it even if
   * this process is paused meanwhile, so no client can sit on the append lock. A group on
   * distinct streams takes the fast path, which leaves stored ids to the unique index; when
   * one is hit, the group goes again through append_group, which checks ids append by append.
   */
  private async storeGroup(works: readonly AppendWork[], checked: boolean): Promise<GroupResult[]> {
    if (!checked && onDistinctStreams(works)) {
      const call = distinctStreamsCall(this.s, works, this.channel, this.appendStatement)
      try {
        const rows = await this.calls.query<DistinctStreamsRow>(call, undefined, `append to ${works.length} stream(s)`, 'STORAGE_INDETERMINATE')
        return distinctStreamsResults(works, rows[0]!)
      } catch (err) {
        if (!isUniqueViolation(err)) throw err
      }
    }
    const call = checkedGroupCall(this.s, works, this.channel)
    return (await this.calls.query<{ r: GroupResult[] }>(call, undefined, `append of ${works.length} batch(es)`, 'STORAGE_INDETERMINATE'))[0]!.r
  }

  private async refusal(work: AppendWork, result: Exclude<GroupResult, { positions: unknown }>): Promise<Outcome<AppendResult>> {
    try {
      if (result.error === 'lease') return { ok: false, error: new LeaseLostError(work.options.lease!.name, work.options.lease!.term, result.currentTerm) }
      // A version mismatch or a duplicate id: a retry of a stored batch is answered from the store.
      const retried = await this.storedBatchOf(work)
      if (retried) return { ok: true, value: retried }
      if (result.error === 'version') return { ok: false, error: new ConcurrencyError(work.streamId, work.options.expectedVersion as number, result.actual) }
      return { ok: false, error: new StorageError(`append to "${work.streamId}": an event id collided but is not stored`) }
    } catch (error) {
      return { ok: false, error }
    }
  }

  private async storedBatchOf(work: AppendWork): Promise<AppendResult | undefined> {
    const rows = await this.query<StoredEventText>(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE id = ANY($1)`, [work.events.map((e) => e.id)])
    const byId = new Map(rows.map((r) => [r.id, envelopeFromText(r)]))
    const stored = storedBatch(work.streamId, work.events, (id) => byId.get(id))
    return stored && { events: stored, alreadyStored: true }
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadStream(streamId, options)
    let from = Math.max(1, options.fromVersion ?? 1)
    // Versions are `integer`: past its range there is nothing to read (and no cast to fail).
    const to = Math.min(options.toVersion ?? 2_147_483_647, 2_147_483_647)
    if (from > to) return
    for (;;) {
      // Keyset pages instead of a server cursor: no connection or transaction is held while
      // the caller works on a page. A stream's versions have no gaps, so a page is a range of
      // versions: bounded work whatever plan the server picks (with stale statistics it chose
      // to fetch and sort the rest of the stream for every page).
      const rows = await this.query<StoredEventText>(
        `SELECT ${COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 AND version >= $2 AND version <= $3 ORDER BY version`,
        [streamId, from, Math.min(to, from + PAGE - 1)],
      )
      for (const row of rows) yield envelopeFromText(row)
      if (rows.length < PAGE) return
      from = rows[rows.length - 1]!.version + 1
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadAll(options)
    let from = Math.max(1, options.fromPosition ?? 1)
    for (;;) {
      const rows = await this.readAllPage(from, PAGE)
      for (const row of rows) yield envelopeFromText(row)
      if (rows.length < PAGE) return
      from = Number(rows[rows.length - 1]!.position) + 1
    }
  }

  /** The stored JSON text of up to `limit` events from `fromPosition` on (see StoredTextReader). */
  async readStoredText(fromPosition: number, limit: number): Promise<readonly StoredEventText[]> {
    checkReadAll({ fromPosition })
    const rows = await this.readAllPage(Math.max(1, fromPosition), limit)
    return rows
  }

  private readAllPage(from: number, limit: number): Promise<StoredEventText[]> {
    return this.query<StoredEventText>(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE position >= $1 ORDER BY events.position LIMIT $2`, [from, limit])
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    void this.listen()
    return this.tail.subscribe(options, handler)
  }

  // Following one stream from right after its event of `afterVersion`: a range of versions.
  private async readPage(from: number, limit: number, streamId: string | undefined, afterVersion: number | undefined): Promise<EventEnvelope[]> {
    if (this.closed) return []
    const rows =
      streamId === undefined
        ? await this.readAllPage(from, limit)
        : afterVersion !== undefined
          ? await this.query<StoredEventText>(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 AND version > $2 AND version <= $3 ORDER BY version`, [streamId, afterVersion, afterVersion + limit])
          : await this.query<StoredEventText>(`SELECT ${COLUMNS} FROM ${this.s}.events WHERE stream_id = $1 AND position >= $2 ORDER BY version LIMIT $3`, [streamId, from, limit])
    return rows.map(envelopeFromText)
  }

  /**
   * One LISTEN connection per store wakes the shared tail when any process commits. If it is
   * lost, it is re-opened with backoff, and the tail is woken to re-read from its position, so
   * nothing is missed or repeated. (Without notifications it still re-reads every second.) A
   * silent connection is lost too: every LISTEN_HEARTBEAT_MS it must answer a `SELECT 1`
   * within callTimeoutMs, so a dead link is replaced within their sum.
   */
  private async listen(failures = 0): Promise<void> {
    if (this.listener || this.closed) return
    const timeoutMs = this.calls.timeoutMs
    const client = new pg.Client({ connectionString: this.options.connectionString, connectionTimeoutMillis: timeoutMs, keepAlive: true, ...this.options.pool })
    this.listener = client
    let heartbeat: NodeJS.Timeout | undefined
    let listening = false
    const reopen = (err: unknown) => {
      if (this.listener !== client) return
      this.listener = undefined
      clearInterval(heartbeat)
      this.report(err)
      client.removeAllListeners()
      discard(client)
      void client.end().catch(() => undefined)
      if (this.closed) return
      setTimeout(() => void this.listen(listening ? 0 : failures + 1), Math.min(2_000, 50 * 2 ** failures)).unref()
    }
    client.on('error', reopen)
    client.on('end', () => reopen(new StorageError('the LISTEN connection ended', { code: 'STORAGE_UNAVAILABLE' })))
    client.on('notification', () => this.signal.notify())
    const answers = (what: string, call: () => Promise<unknown>) =>
      withDeadline(call, timeoutMs, () => new StorageError(`PostgreSQL LISTEN connection: ${what} had no answer within ${timeoutMs} ms (callTimeoutMs)`, { code: 'STORAGE_UNAVAILABLE' }))
    try {
      await answers('connecting', () => client.connect())
      await this.ready()
      await answers('LISTEN', () => client.query(`LISTEN ${ident(this.channel)}`))
      listening = true
      heartbeat = setInterval(() => {
        if (this.listener !== client) return clearInterval(heartbeat)
        answers('a heartbeat', () => client.query('SELECT 1')).catch(reopen)
      }, LISTEN_HEARTBEAT_MS)
      heartbeat.unref()
      // Anything committed while we were not listening is read now.
      this.signal.notify()
    } catch (err) {
      reopen(err)
    }
  }

  async streamVersion(streamId: string): Promise<number> {
    checkIdentifier(streamId, 'streamId')
    const rows = await this.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${this.s}.events WHERE stream_id = $1`, [streamId])
    return rows[0]?.v ?? 0
  }

  async headPosition(): Promise<number> {
    const rows = await this.query<{ p: string | null }>(`SELECT max(position) AS p FROM ${this.s}.events`)
    return Number(rows[0]?.p ?? 0)
  }

  async saveSnapshot(snap: Snapshot): Promise<void> {
    await this.query(
      `INSERT INTO ${this.s}.snapshots (actor_type, stream_id, snapshot_version, version, state, at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (actor_type, stream_id) DO UPDATE SET snapshot_version = $3, version = $4, state = $5, at = $6`,
      [snap.actorType, snap.streamId, snap.snapshotVersion, snap.version, JSON.stringify(snap.state), snap.at],
    )
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    const rows = await this.query<{ snapshot_version: number; version: number; state: string; at: string }>(
      `SELECT snapshot_version, version, state, at FROM ${this.s}.snapshots WHERE actor_type = $1 AND stream_id = $2`,
      [actorType, streamId],
    )
    const row = rows[0]
    if (!row) return undefined
    try {
      return { actorType, streamId, snapshotVersion: row.snapshot_version, version: row.version, state: parseStoredJson(row.state), at: Number(row.at) }
    } catch (err) {
      throw new SnapshotCorruptError(actorType, streamId, err)
    }
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    checkCheckpoint(name, position)
    await this.query(`INSERT INTO ${this.s}.checkpoints (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = $2`, [name, position])
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    checkCheckpoint(name)
    const rows = await this.query<{ position: string }>(`SELECT position FROM ${this.s}.checkpoints WHERE name = $1`, [name])
    return rows[0] ? Number(rows[0].position) : undefined
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { ttlMs })
    return (await this.changeLease(name, (current) => leaseAfterAcquire(current, name, owner, ttlMs, now)))!
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { term, ttlMs })
    return (await this.changeLease(name, (current) => leaseAfterRenew(current, name, owner, term, ttlMs, now)))!
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    checkLease(name, owner, now, { term })
    await this.changeLease(name, (current) => leaseAfterRelease(current, owner, term, now))
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    checkIdentifier(name, 'name')
    const rows = await this.query<{ holder: string; term: number; expires_at: string }>(`SELECT holder, term, expires_at FROM ${this.s}.leases WHERE name = $1`, [name])
    const row = rows[0]
    return row && row.term > 0 ? { name, holder: row.holder, term: row.term, expiresAt: Number(row.expires_at) } : undefined
  }

  /** Reads the lease row locked FOR UPDATE, applies the shared rule, writes it back: one transaction. */
  private async changeLease(name: string, change: (current: LeaseState | undefined) => LeaseState | undefined): Promise<LeaseState | undefined> {
    this.assertOpen()
    await this.ready()
    try {
      return await this.calls.withClient(`lease "${name}"`, 'STORAGE_UNAVAILABLE', async (client) => {
        try {
          await client.query('BEGIN')
          // A client cut off inside this transaction must not hold the row for ever.
          await client.query("SET LOCAL idle_in_transaction_session_timeout = '2s'")
          await client.query(`INSERT INTO ${this.s}.leases (name, holder, term, expires_at) VALUES ($1, '', 0, 0) ON CONFLICT (name) DO NOTHING`, [name])
          const rows = await client.query<{ holder: string; term: number; expires_at: string }>(`SELECT holder, term, expires_at FROM ${this.s}.leases WHERE name = $1 FOR UPDATE`, [name])
          const row = rows.rows[0]!
          const current = row.term > 0 ? { name, holder: row.holder, term: row.term, expiresAt: Number(row.expires_at) } : undefined
          const next = change(current)
          if (next) await client.query(`UPDATE ${this.s}.leases SET holder = $2, term = $3, expires_at = $4 WHERE name = $1`, [name, next.holder, next.term, next.expiresAt])
          await client.query('COMMIT')
          return next
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw err
        }
      })
    } catch (err) {
      throw this.typed(err, `lease "${name}"`)
    }
  }

  // Store-wide reads for tools (storeCatalog.ts).
  listStreams(options?: ListStreamsOptions): Promise<readonly StreamInfo[]> {
    return pgListStreams((sql, params) => this.query(sql, params), this.s, options)
  }

  listLeases(): Promise<readonly LeaseState[]> {
    return pgListLeases((sql, params) => this.query(sql, params), this.s)
  }

  listCheckpoints(): Promise<readonly CheckpointState[]> {
    return pgListCheckpoints((sql, params) => this.query(sql, params), this.s)
  }

  /** Read models in this schema, through this pool (lib/read). */
  readModels(): ReadModelStorage {
    return (this.readModelStorage ??= new PgReadModelStorage(this.calls, this.schema, () => this.ready(), () => this.assertOpen()))
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.tail.close()
    this.closed = true
    await this.commits.drained()
    const listener = this.listener
    this.listener = undefined
    listener?.removeAllListeners()
    listener?.on('error', () => undefined)
    await listener?.end().catch(() => undefined)
    await this.pool.end()
  }

  private async query<R extends Pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    this.assertOpen()
    await this.ready()
    try {
      return await this.calls.query<R>(sql, params, 'query')
    } catch (err) {
      throw this.typed(err, 'query')
    }
  }

  private typed(err: unknown, what: string, lostCode = 'STORAGE_UNAVAILABLE'): unknown {
    if (isOmniscientError(err)) return err
    return new StorageError(`PostgreSQL ${what} failed: ${(err as Error).message}`, { cause: err, code: isConnectionLoss(err) ? lostCode : 'STORAGE' })
  }

  private report(err: unknown): void {
    if (this.options.onError) this.options.onError(err)
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(`PgStore (schema "${this.schema}")`)
  }
}
