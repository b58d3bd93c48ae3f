import { randomUUID } from 'node:crypto'
import type { RCursor, RDatum } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import type { EventEnvelope, NewEvent } from '../../envelope.js'
import { ConcurrencyError, IdempotencyError, LeaseLostError, SnapshotCorruptError, StorageError, StoreClosedError } from '../../errors.js'
import { parseStoredJson } from '../../safeData.js'
import { storedBatch } from '../kit/appendRules.js'
import { checkAppend, checkCheckpoint, checkIdentifier, checkLease, checkReadAll, checkReadStream } from '../kit/arguments.js'
import { CommitSignal } from '../kit/CommitSignal.js'
import { encodeEvent } from '../kit/eventJson.js'
import type { AppendOptions, AppendResult, LeaseState, ReadAllOptions, ReadStreamOptions, Snapshot, StorageAdapter } from '../StorageAdapter.js'
import { SharedTail } from '../kit/SharedTail.js'
import type { SubscribeOptions, Subscription, SubscriptionHandler } from '../Subscription.js'
import { commitConflict, commitEnvelopes, type CommitDoc, type CommitKey, type IdClaimDoc, type SnapshotDoc, type TombstoneDoc } from './documents.js'
import { writeOutcome, type WriteOutcome } from './failures.js'
import { RethinkLeases } from './RethinkLeases.js'
import type { ConnectionTiming, LeaseClock, RethinkServer, TableLayout } from './options.js'
import { DEFAULT_CALL_TIMEOUT_MS, parseRethinkUrl, RethinkConnection } from './RethinkConnection.js'
import { ensureSchema, tableCreateOptions, type Tables } from './schema.js'
import type { TableCreateOptions } from 'rethinkdb-ts'
import { checkOptions } from '../../checkOptions.js'
import { IdClaims, sameKey } from './IdClaims.js'
import { commitKey, GroupWriter, type GroupAppend, type GroupOutcome } from './GroupWriter.js'
import { GroupCommit } from '../kit/GroupCommit.js'
import { withDeadline } from '../kit/withDeadline.js'
import { Log } from './Log.js'
import { repeatable } from './repeatable.js'
import type { ReadModelStorage, ReadModelStorageProvider } from '../../read/ReadModelStorage.js'
import { RethinkReadModelStorage } from './RethinkReadModelStorage.js'
import type { CheckpointState, ListStreamsOptions, StreamInfo } from '../StoreCatalog.js'
import { checkListStreams } from '../StoreCatalog.js'
import { rethinkListCheckpoints, rethinkListLeases, rethinkListStreams } from './storeCatalog.js'

/**
 * Options of `RethinkStore`. `replicas`, `primaryReplicaTag` and `shards` lay out the five
 * tables when the store creates them (on first use); tables that exist already are left as they
 * are (change them with `reconfigure`, see docs/adapters.md).
 */
export interface RethinkStoreOptions extends ConnectionTiming, TableLayout {
  /** `rethinkdb://user:password@host:port/db`; or give `server`. */
  readonly url?: string
  readonly server?: Partial<RethinkServer>
  /** Prefix of the table names (letters, digits, `_`). Default `omniscient_`. */
  readonly tablePrefix?: string
  /** Whose clock decides lease expiry: the server's `r.now()` (default) or the `now` callers pass. */
  readonly leaseClock?: LeaseClock
}

/**
 * Longest stream id, event id, lease or checkpoint name RethinkStore takes, in UTF-8 bytes
 * (other stores take `MAX_ID_BYTES`, 256). RethinkDB refuses a primary key past 127 bytes, and
 * the keys here hold more than the id: a commit's key is `[streamId, version]`, a snapshot's
 * `[actorType, streamId]`, each with a few bytes of encoding per element.
 */
export const RETHINK_MAX_ID_BYTES = 80

// Every option, once: a new option left out of this object fails to compile.
const RETHINK_OPTIONS = Object.keys({
  url: true,
  server: true,
  tablePrefix: true,
  leaseClock: true,
  connectTimeoutMs: true,
  waitTimeoutMs: true,
  callTimeoutMs: true,
  onError: true,
  replicas: true,
  primaryReplicaTag: true,
  shards: true,
} satisfies Record<keyof RethinkStoreOptions, true>)

// r.desc() is typed `any` by rethinkdb-ts.
const LATEST_FIRST = r.desc('stream_to') as unknown as string
const PAGE = 500
const MAX_APPEND_ATTEMPTS = 100
// How often a process with subscriptions looks for log entries left unfinished by a crashed writer.
const ORPHAN_SWEEP_MS = 1_000

function serverOf(options: RethinkStoreOptions): RethinkServer {
  const fromUrl = options.url ? parseRethinkUrl(options.url) : undefined
  return { host: '127.0.0.1', port: 28015, db: 'omniscient', ...fromUrl, ...options.server }
}

/**
 * The StorageAdapter on RethinkDB, through rethinkdb-ts. One document per commit, keyed
 * `[streamId, first version]`, so a batch is all-or-nothing and two writers expecting the same
 * version collide on the key. Concurrent appends go together (GroupWriter); positions come from
 * the Log (gap-free order for readers, up to its head);
 * leases and fencing from RethinkLeases. Changefeeds are used only as wake-up signals: events
 * are always read from the table.
 *
 * @example
 * const store = new RethinkStore({ url: 'rethinkdb://127.0.0.1:28015/shop' })
 * const container = createContainer({ store })
 */
export class RethinkStore implements StorageAdapter, ReadModelStorageProvider {
  readonly server: RethinkServer
  readonly tablePrefix: string
  readonly maxIdBytes = RETHINK_MAX_ID_BYTES
  private readonly db: RethinkConnection
  private setup: Promise<Tables> | undefined
  private t!: Tables
  private log!: Log
  private groups!: GroupCommit<GroupAppend, GroupOutcome>
  private leases!: RethinkLeases
  private claims!: IdClaims
  private writer!: GroupWriter
  private readonly signal = new CommitSignal()
  // One reader for every subscription of this store, woken by the one head changefeed.
  private readonly tail = new SharedTail({
    readPage: (from, limit, streamId) => (this.closed ? [] : this.readPage(from, limit, streamId)),
    headPosition: () => this.headPosition(),
    commits: this.signal,
  })
  private readonly inFlight = new Set<Promise<unknown>>()
  private feed: RCursor | undefined
  private following = false
  private sweeper: NodeJS.Timeout | undefined
  private closed = false
  private readonly tableOptions: TableCreateOptions
  private readModelStorage: RethinkReadModelStorage | undefined

  constructor(private readonly options: RethinkStoreOptions = {}) {
    checkOptions('RethinkStore', options, RETHINK_OPTIONS)
    this.tableOptions = tableCreateOptions(options)
    this.server = serverOf(options)
    this.tablePrefix = options.tablePrefix ?? 'omniscient_'
    if (!/^[A-Za-z0-9_]*$/.test(this.tablePrefix)) {
      throw new StorageError(`table prefix "${this.tablePrefix}" may hold only letters, digits and _`, { code: 'INVALID_SCHEMA' })
    }
    this.db = new RethinkConnection(this.server, options)
    this.ready().catch(() => undefined)
  }

  /** The tables, created on first use; a set-up that failed (no server yet) is tried again by the next call. */
  private ready(): Promise<Tables> {
    this.setup ??= ensureSchema(this.db, this.server.db, this.tablePrefix, this.tableOptions).then(
      (tables) => {
        this.t = tables
        const onError = (err: unknown) => this.options.onError?.(err)
        this.log = new Log(this.db, tables, () => this.signal.notify(), onError)
        this.leases = new RethinkLeases(this.db, tables, this.options.leaseClock ?? 'server')
        this.claims = new IdClaims(this.db, tables)
        const writer = new GroupWriter(this.db, tables, this.claims, this.log, this.leases, onError)
        this.writer = writer
        // One commit per stream in a log entry: a stream's next append waits for the next entry.
        this.groups = new GroupCommit(
          async (group) => (await writer.write(group)).map((value) => ({ ok: true, value })),
          { keyOf: (append) => append.streamId, onePerKey: true, maxGroup: 500 },
        )
        return tables
      },
      (err: unknown) => {
        this.setup = undefined
        throw err
      },
    )
    return this.setup
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen()
    checkAppend(streamId, events, options, RETHINK_MAX_ID_BYTES)
    const stored = events.map((e) => encodeEvent(streamId, e))
    await this.ready()
    // The whole append (its place in the group queue, its claims and its log entry) gets one
    // deadline; past it, it may yet be stored: STORAGE_INDETERMINATE, settled by a retry.
    const callTimeoutMs = this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    const work = withDeadline(() => this.appendOnce(streamId, events, stored, options), callTimeoutMs, () => new StorageError(`RethinkDB append to "${streamId}": not settled within ${callTimeoutMs} ms (callTimeoutMs); it may or may not be stored`, { code: 'STORAGE_INDETERMINATE' }))
    this.inFlight.add(work)
    try {
      return await work
    } finally {
      this.inFlight.delete(work)
    }
  }

  private async appendOnce(streamId: string, events: readonly NewEvent[], stored: CommitDoc['events'], options: AppendOptions): Promise<AppendResult> {
    const ids = events.map((e) => e.id)
    const commitId = ids[0]!
    // This call's claims are its own, across its tries (IdClaimDoc.attempt).
    const attempt = randomUUID()
    for (let tries = 0; tries < MAX_APPEND_ATTEMPTS; tries++) {
      const expected = options.expectedVersion === 'any' ? await this.streamVersion(streamId) : options.expectedVersion
      const append: GroupAppend = { streamId, events, stored, expected, attempt, ...(options.lease ? { lease: options.lease } : {}) }
      const key = commitKey(append)
      const outcome = await this.groups.submit(append)
      switch (outcome.kind) {
        case 'stored':
          return outcome.result
        case 'again':
          continue
        case 'storedBefore':
          return this.retried(streamId, events, [outcome.commit])
        case 'foreign': {
          const answer = await this.foreign(streamId, events, key, attempt, outcome.others)
          if (answer === 'again') continue
          return answer
        }
        case 'conflict':
          await this.release(ids, key, attempt)
          if (options.expectedVersion === 'any') continue
          throw new ConcurrencyError(streamId, expected, await this.streamVersion(streamId))
        case 'refused':
          await this.release(ids, key, attempt)
          if (outcome.by === 'blocked') throw new IdempotencyError(commitId, `was taken over by another append while this one was held up; this append is not stored`)
          throw new LeaseLostError(options.lease!.name, options.lease!.term, (await this.leases.read(options.lease!.name))?.term ?? options.lease!.term + 1)
        case 'failed':
          if (outcome.release) await this.release(ids, key, attempt)
          throw outcome.error
      }
    }
    throw new StorageError(`append to "${streamId}": the stream kept moving; gave up after ${MAX_APPEND_ATTEMPTS} attempts`, { code: 'CONCURRENCY_EXHAUSTED' })
  }

  /**
   * Some of the batch's ids are claimed by other commits. Stored ones make this a retry (or a
   * mixed batch, refused); claims whose commit is not stored are taken over when abandoned (or
   * an earlier attempt of this batch), refused when another writer is on its way. Returns the
   * answer to a retry, or 'again' when the append is to go again.
   */
  private async foreign(streamId: string, events: readonly NewEvent[], key: CommitKey, attempt: string, others: readonly IdClaimDoc[]): Promise<AppendResult | 'again'> {
    const ids = events.map((e) => e.id)
    const commitId = ids[0]!
    const owners = others.map((c) => c.commit)
    const there = await this.db.read<Array<CommitDoc | TombstoneDoc>>(this.t.commits.getAll(r.args(owners)).coerceTo('array'), `read the commits holding ids of "${streamId}"`)
    const stored = there.filter((d): d is CommitDoc => !('tombstone' in d) && others.some((c) => c.commitId === d.commitId && sameKey(c.commit, d.id)))
    if (stored.length > 0) {
      try {
        return this.retried(streamId, events, stored)
      } catch (err) {
        await this.release(ids, key, attempt)
        throw err
      }
    }
    await this.release(ids, key, attempt)
    for (const claim of others) {
      const fate = await repeatable('take over an event id', () => this.claims.takeOver(claim, key, commitId, attempt))
      if (fate === 'busy') throw new IdempotencyError(claim.id, `is being appended to "${claim.commit[0]}" by another writer; not stored here`)
    }
    return 'again' // a stored one is found by the next attempt's claim; a taken one is claimed again
  }

  /** The batch's ids are stored already: answer the retry from the store (or refuse a mixed one). */
  private retried(streamId: string, events: readonly NewEvent[], found: readonly CommitDoc[]): AppendResult {
    const byId = new Map<string, EventEnvelope>()
    for (const commit of found) for (const e of commitEnvelopes(commit, commit.position)) byId.set(e.id, e)
    const again = storedBatch(streamId, events, (id) => byId.get(id))
    if (!again) throw new IdempotencyError(events[0]!.id, `is claimed by a commit of "${found[0]!.stream}" that holds other ids`)
    return { events: again, alreadyStored: true }
  }

  /** Frees the ids of a commit that did not land (repeatable: it deletes only this attempt's claims). */
  private release(ids: readonly string[], key: CommitKey, attempt: string): Promise<void> {
    return repeatable('release event ids', () => this.claims.release(ids, key, attempt))
  }

  /**
   * One insert of a single commit, `durability: 'hard'`, with the tombstone rule of every commit
   * insert (white-box specs use it to play a writer that was held up).
   */
  private insertCommit(doc: CommitDoc): Promise<WriteOutcome> {
    return repeatable(`append to "${doc.stream}"`, async () => {
      const result = await this.db.write(this.t.commits.insert(doc, { durability: 'hard', conflict: commitConflict }), `append to "${doc.stream}"`)
      return writeOutcome(result, `append to "${doc.stream}"`)
    })
  }

  private versionOf(streamId: string): RDatum {
    return this.t.commits
      .between([streamId, r.minval], [streamId, r.maxval], { index: 'stream_to' })
      .orderBy({ index: LATEST_FIRST })
      .limit(1)
      .map((c: RDatum) => c('to'))
      .coerceTo('array')
      .nth(0)
      .default(0)
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadStream(streamId, options, RETHINK_MAX_ID_BYTES)
    await this.ready()
    let from = Math.max(1, options.fromVersion ?? 1)
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER
    for (;;) {
      // Keyset pages: the commit holding `from` is the first whose last version is >= from.
      const commits = await this.db.read<CommitDoc[]>(
        this.t.commits.between([streamId, from], [streamId, r.maxval], { index: 'stream_to' }).orderBy({ index: 'stream_to' }).limit(PAGE).coerceTo('array'),
        `read "${streamId}"`,
      )
      for (const commit of commits) {
        if (commit.from > to) return
        for (const e of commitEnvelopes(commit, commit.position)) if (e.version >= from && e.version <= to) yield e
      }
      if (commits.length < PAGE) {
        // The stream's last commit: the predecessor of the next append (a hint, see GroupWriter).
        if (commits.length > 0) this.writer.saw(commits[commits.length - 1]!)
        return
      }
      from = commits[commits.length - 1]!.to + 1
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadAll(options)
    let from = Math.max(1, options.fromPosition ?? 1)
    for (;;) {
      const page = await this.readPage(from, PAGE, undefined)
      for (const e of page) yield e
      if (page.length < PAGE) return
      from = page[page.length - 1]!.position + 1
    }
  }

  /** Events from `from` on, up to the head only: below it every commit has its final position. */
  private async readPage(from: number, limit: number, streamId: string | undefined): Promise<EventEnvelope[]> {
    await this.ready()
    await this.log.caughtUp() // this store's own appends are behind the head before it reads
    const t = this.t
    const commits = await this.db.read<CommitDoc[]>(
      t.head.do((head: RDatum) =>
        streamId === undefined
          ? t.commits.between(from, head('position'), { index: 'last', rightBound: 'closed' }).orderBy({ index: 'last' }).limit(limit).coerceTo('array')
          : t.commits
              .between([streamId, from], [streamId, head('position')], { index: 'stream_last', rightBound: 'closed' })
              .orderBy({ index: 'stream_last' })
              .limit(limit)
              .coerceTo('array'),
      ),
      'read events by position',
    )
    return commits.flatMap((c) => commitEnvelopes(c, c.position).filter((e) => e.position >= from))
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    this.follow()
    return this.tail.subscribe(options, handler)
  }

  /**
   * Wakes the shared tail when any process moves the head: one changefeed per store, on the
   * head document. Feeds give no delivery guarantee and die with their connection, so they are
   * only a signal; after a loss the feed is re-opened (with backoff) and the tail re-reads from
   * its position. Meanwhile the tail still re-reads every second, and log entries left
   * unfinished by a crashed writer are closed by a periodic sweep.
   */
  private follow(): void {
    if (this.following) return
    this.following = true
    this.sweeper = setInterval(() => void this.sweepOrphans(), ORPHAN_SWEEP_MS)
    this.sweeper.unref()
    void (async () => {
      for (let failures = 0; !this.closed; ) {
        try {
          const t = await this.ready()
          const connection = await this.db.open('open the head changefeed')
          const cursor = (await t.head.changes().getCursor(connection)) as unknown as RCursor
          this.feed = cursor
          failures = 0
          this.signal.notify()
          for await (const change of cursor) {
            void change
            this.signal.notify()
          }
        } catch (err) {
          if (this.closed) return
          this.options.onError?.(err)
        } finally {
          this.feed = undefined
        }
        this.signal.notify()
        await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 20 * 2 ** failures++)))
      }
    })()
  }

  /** Moves the head past log entries whose writer crashed (closing them once they are old). */
  private async sweepOrphans(): Promise<void> {
    if (this.closed || this.tail.size === 0) return
    try {
      await this.ready()
      await this.log.advance()
    } catch (err) {
      this.options.onError?.(err)
    }
  }

  async streamVersion(streamId: string): Promise<number> {
    checkIdentifier(streamId, 'streamId', RETHINK_MAX_ID_BYTES)
    await this.ready()
    return this.db.read<number>(this.versionOf(streamId), `read the version of "${streamId}"`)
  }

  async headPosition(): Promise<number> {
    const t = await this.ready()
    await this.log.caughtUp()
    return this.db.read<number>(t.head('position').default(0), 'read the head')
  }

  async saveSnapshot(snap: Snapshot): Promise<void> {
    const t = await this.ready()
    const doc: SnapshotDoc = { id: [snap.actorType, snap.streamId], snapshotVersion: snap.snapshotVersion, version: snap.version, state: JSON.stringify(snap.state), at: snap.at }
    writeOutcome(await this.db.write(t.snapshots.insert(doc, { conflict: 'replace' }), 'save a snapshot'), 'save a snapshot')
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    const t = await this.ready()
    const doc = await this.db.read<SnapshotDoc | null>(t.snapshots.get([actorType, streamId]), 'load a snapshot')
    if (!doc) return undefined
    try {
      return { actorType, streamId, snapshotVersion: doc.snapshotVersion, version: doc.version, state: parseStoredJson(doc.state), at: doc.at }
    } catch (err) {
      throw new SnapshotCorruptError(actorType, streamId, err)
    }
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    checkCheckpoint(name, position, RETHINK_MAX_ID_BYTES)
    const t = await this.ready()
    writeOutcome(await this.db.write(t.checkpoints.insert({ id: name, position }, { conflict: 'replace' }), 'save a checkpoint'), 'save a checkpoint')
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    checkCheckpoint(name, undefined, RETHINK_MAX_ID_BYTES)
    const t = await this.ready()
    const doc = await this.db.read<{ position: number } | null>(t.checkpoints.get(name), 'load a checkpoint')
    return doc?.position
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { ttlMs }, RETHINK_MAX_ID_BYTES)
    await this.ready()
    return this.leases.acquire(name, owner, ttlMs, now)
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { term, ttlMs }, RETHINK_MAX_ID_BYTES)
    await this.ready()
    return this.leases.renew(name, owner, term, ttlMs, now)
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    checkLease(name, owner, now, { term }, RETHINK_MAX_ID_BYTES)
    await this.ready()
    return this.leases.release(name, owner, term, now)
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    checkIdentifier(name, 'name', RETHINK_MAX_ID_BYTES)
    await this.ready()
    return this.leases.read(name)
  }

  // Store-wide reads for tools (storeCatalog.ts).
  async listStreams(options?: ListStreamsOptions): Promise<readonly StreamInfo[]> {
    const checked = checkListStreams(options)
    const t = await this.ready()
    await this.log.caughtUp() // as readAll: this store's own appends are behind the head first
    return rethinkListStreams(this.db, t, checked)
  }

  async listLeases(): Promise<readonly LeaseState[]> {
    return rethinkListLeases(this.db, await this.ready())
  }

  async listCheckpoints(): Promise<readonly CheckpointState[]> {
    return rethinkListCheckpoints(this.db, await this.ready())
  }

  /** Read models in tables beside this store's (lib/read): idempotent per document, not one transaction. */
  readModels(): ReadModelStorage {
    return (this.readModelStorage ??= new RethinkReadModelStorage(this.db, this.server.db, this.tablePrefix, this.tableOptions, (name) => this.readLease(name)))
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.tail.close()
    await Promise.allSettled([...this.inFlight])
    // The head passes this store's appends before it stops following: an entry finished here
    // after another writer's (whose move then failed) is not left for a later writer to move.
    await this.log?.caughtUp()
    this.closed = true
    this.log?.stop()
    clearInterval(this.sweeper)
    await this.feed?.close().catch(() => undefined)
    await this.db.close()
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(`RethinkStore (${this.server.host}:${this.server.port}/${this.server.db})`)
  }
}
