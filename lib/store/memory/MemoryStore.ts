import type { EventEnvelope, NewEvent } from '../../envelope.js'
import { StoreClosedError } from '../../errors.js'
import { CommitSignal } from '../kit/CommitSignal.js'
import { encodeEvent } from '../kit/eventJson.js'
import { envelopeFromText, type StoredEventText } from '../kit/storedText.js'
import { firstAtOrAfter, SharedTail } from '../kit/SharedTail.js'
import type { SubscribeOptions, Subscription, SubscriptionHandler } from '../Subscription.js'
import { assertExpectedVersion, storedBatch } from '../kit/appendRules.js'
import { checkAppend, checkCheckpoint, checkIdentifier, checkLease, checkReadAll, checkReadStream } from '../kit/arguments.js'
import { checkListStreams, type CheckpointState, type ListStreamsOptions, type StreamInfo } from '../StoreCatalog.js'
import { assertCurrentTerm, leaseAfterAcquire, leaseAfterRelease, leaseAfterRenew } from '../kit/leaseRules.js'
import { MemoryReadModelStorage } from './MemoryReadModelStorage.js'
import { MemorySnapshots } from './MemorySnapshots.js'
import type { ReadModelStorage, ReadModelStorageProvider } from '../../read/ReadModelStorage.js'
import type {
  AppendOptions,
  AppendResult,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from '../StorageAdapter.js'

// Rows keep data and meta as JSON text, like a real engine, so that what a test reads back has
// been through the same round trip as on SQLite (no shared references, no Dates, no undefined).

/**
 * The reference adapter: everything in memory, one process. Used by Given/When/Then and by
 * tests; its behaviour is the contract's.
 *
 * @example
 * const container = createContainer({ store: new MemoryStore() })
 */
export class MemoryStore implements StorageAdapter, ReadModelStorageProvider {
  private readonly log: StoredEventText[] = []
  private readonly streams = new Map<string, StoredEventText[]>()
  private readonly byId = new Map<string, StoredEventText>()
  private readonly snapshots = new MemorySnapshots()
  private readonly checkpoints = new Map<string, number>()
  private readonly leases = new Map<string, LeaseState>()
  private readonly readModelStorage = new MemoryReadModelStorage((name) => this.leases.get(name))
  private readonly commits = new CommitSignal()
  private readonly tail = new SharedTail({
    readPage: (from, limit, streamId) => {
      const rows = streamId === undefined ? this.log : (this.streams.get(streamId) ?? [])
      const page: EventEnvelope[] = []
      // Positions are 1..n here; a stream's rows are in position order, so skip by search.
      let i = streamId === undefined ? from - 1 : firstAtOrAfter(rows, from)
      for (; i < rows.length && page.length < limit; i++) page.push(envelopeFromText(rows[i]!))
      return page
    },
    headPosition: async () => this.log.length,
    commits: this.commits,
  })
  private closed = false

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen()
    checkAppend(streamId, events, options)
    // Encoded first, as every adapter does: data JSON cannot hold is refused before any state is looked at.
    const encoded = events.map((event) => encodeEvent(streamId, event))
    const retried = storedBatch(streamId, events, (id) => {
      const row = this.byId.get(id)
      return row && envelopeFromText(row)
    })
    if (retried) return { events: retried, alreadyStored: true }

    const stream = this.streams.get(streamId) ?? []
    if (options.lease) assertCurrentTerm(this.leases.get(options.lease.name), options.lease.name, options.lease.term)
    assertExpectedVersion(streamId, options.expectedVersion, stream.length)
    const rows = events.map((_, i): StoredEventText => ({
      ...encoded[i]!,
      streamId,
      version: stream.length + i + 1,
      position: this.log.length + i + 1,
    }))
    // Nothing above may throw after this point, so the batch lands whole.
    for (const row of rows) {
      stream.push(row)
      this.log.push(row)
      this.byId.set(row.id, row)
    }
    this.streams.set(streamId, stream)
    this.commits.notify()
    return { events: rows.map(envelopeFromText), alreadyStored: false }
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen()
    checkReadStream(streamId, options)
    const stream = this.streams.get(streamId) ?? []
    const from = Math.max(1, options.fromVersion ?? 1)
    const to = Math.min(stream.length, options.toVersion ?? stream.length)
    for (let version = from; version <= to; version++) yield envelopeFromText(stream[version - 1]!)
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen()
    checkReadAll(options)
    // Positions are 1..n without gaps here, so a position is an index.
    for (let i = Math.max(0, (options.fromPosition ?? 1) - 1); i < this.log.length; i++) yield envelopeFromText(this.log[i]!)
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    return this.tail.subscribe(options, handler)
  }

  async streamVersion(streamId: string): Promise<number> {
    this.assertOpen()
    checkIdentifier(streamId, 'streamId')
    return this.streams.get(streamId)?.length ?? 0
  }

  async headPosition(): Promise<number> {
    this.assertOpen()
    return this.log.length
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen()
    this.snapshots.save(snapshot)
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    this.assertOpen()
    return this.snapshots.load(actorType, streamId)
  }

  /** Test hook: overwrites a snapshot with arbitrary text, as a damaged disk would. */
  corruptSnapshot(actorType: string, streamId: string, text: string): void {
    this.snapshots.corrupt(actorType, streamId, text)
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    this.assertOpen()
    checkLease(name, owner, now, { ttlMs })
    const lease = leaseAfterAcquire(this.leases.get(name), name, owner, ttlMs, now)
    this.leases.set(name, lease)
    return lease
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    this.assertOpen()
    checkLease(name, owner, now, { term, ttlMs })
    const lease = leaseAfterRenew(this.leases.get(name), name, owner, term, ttlMs, now)
    this.leases.set(name, lease)
    return lease
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    this.assertOpen()
    checkLease(name, owner, now, { term })
    const lease = leaseAfterRelease(this.leases.get(name), owner, term, now)
    if (lease) this.leases.set(name, lease)
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    this.assertOpen()
    checkIdentifier(name, 'name')
    return this.leases.get(name)
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    this.assertOpen()
    checkCheckpoint(name, position)
    this.checkpoints.set(name, position)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    this.assertOpen()
    checkCheckpoint(name)
    return this.checkpoints.get(name)
  }

  // Store-wide reads for tools (storeCatalog.ts).
  async listStreams(options: ListStreamsOptions = {}): Promise<readonly StreamInfo[]> {
    this.assertOpen()
    const { after, contains, limit } = checkListStreams(options)
    const ids = [...this.streams.keys()].filter((id) => id > after && id.includes(contains)).sort()
    return ids.slice(0, limit).map((streamId) => {
      const last = this.streams.get(streamId)!.at(-1)!
      return { streamId, version: last.version, lastPosition: last.position, lastAt: last.at }
    })
  }

  async listLeases(): Promise<readonly LeaseState[]> {
    this.assertOpen()
    return [...this.leases.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  async listCheckpoints(): Promise<readonly CheckpointState[]> {
    this.assertOpen()
    return [...this.checkpoints].map(([name, position]) => ({ name, position })).sort((a, b) => (a.name < b.name ? -1 : 1))
  }

  /** Read models in memory beside the events, fenced by this store's leases (lib/read). */
  readModels(): ReadModelStorage {
    return this.readModelStorage
  }

  /** Ends the subscriptions; every later call throws `StoreClosedError`. */
  async close(): Promise<void> {
    this.closed = true
    await this.tail.close()
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError('the MemoryStore')
  }
}
