import type { EventEnvelope, NewEvent } from '../envelope.js'
import type { LeaseState } from './LeaseState.js'
import type { CheckpointState, ListStreamsOptions, StreamInfo } from './StoreCatalog.js'
import type { ReadModelStorage } from '../read/ReadModelStorage.js'
import type { SubscribeOptions, Subscription, SubscriptionHandler } from './Subscription.js'

export type { LeaseState } from './LeaseState.js'

/**
 * `expectedVersion` of an append: the stream's version the writer last saw (0 for a stream
 * that must not exist yet), or `'any'` to skip the check.
 */
export type ExpectedVersion = number | 'any'

/** Options of `append`. */
export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion
  /**
   * Fencing: the append lands only if `term` is still the lease's current term, checked in the
   * same transaction as the version; otherwise `LeaseLostError` and nothing is stored.
   */
  readonly lease?: { readonly name: string; readonly term: number }
}

/** What `append` returns: the envelopes as stored. */
export interface AppendResult {
  readonly events: readonly EventEnvelope[]
  /** True when every id was already stored and nothing new was written (an idempotent retry). */
  readonly alreadyStored: boolean
}

/** Options of `readStream`: both bounds inclusive. */
export interface ReadStreamOptions {
  readonly fromVersion?: number
  readonly toVersion?: number
}

/** Options of `readAll`: events whose position is at least `fromPosition`. */
export interface ReadAllOptions {
  readonly fromPosition?: number
}

/** Memoized state of one actor class for one stream, up to `version`. */
export interface Snapshot {
  readonly actorType: string
  readonly streamId: string
  /** The actor class's snapshot version when it was taken: a mismatch means "replay instead". */
  readonly snapshotVersion: number
  /** The stream version the state includes. */
  readonly version: number
  readonly state: unknown
  readonly at: number
}

/**
 * The one contract every storage engine fulfils; spec/store/ checks it against each adapter.
 *
 * @example
 * const store: StorageAdapter = new SqliteStore({ file: './.data/app.db' })
 * await store.append('user-1', [event], { expectedVersion: 0 })
 */
export interface StorageAdapter {
  /**
   * Appends a batch to a stream: all of it or none. A version mismatch throws
   * `ConcurrencyError` and stores nothing. A batch whose ids are all stored already returns
   * the stored envelopes (`alreadyStored: true`); a batch mixing stored and new ids throws
   * `IdempotencyError`.
   */
  append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>
  /** The stream's events in version order, read page by page. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<EventEnvelope>
  /** Every stream's events in position order, read page by page. */
  readAll(options?: ReadAllOptions): AsyncIterable<EventEnvelope>
  /**
   * Catch-up, then live: every event from `fromPosition` on (of one stream, or with one of
   * `names`), in position order, each once, the next only after the handler settled. Events
   * committed by other processes arrive too. A handler that throws ends the subscription
   * (`done` rejects); read failures are retried.
   */
  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription
  /** The stream's current version; 0 when it has no events. */
  streamVersion(streamId: string): Promise<number>
  /** The highest committed position; 0 for an empty store. */
  headPosition(): Promise<number>

  /** Replaces the snapshot of `(actorType, streamId)`. */
  saveSnapshot(snapshot: Snapshot): Promise<void>
  /** The snapshot of `(actorType, streamId)`; throws `SnapshotCorruptError` if unreadable. */
  loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined>

  /** Records the last position a named projection or process manager has handled. */
  saveCheckpoint(name: string, position: number): Promise<void>
  loadCheckpoint(name: string): Promise<number | undefined>

  /**
   * Takes the lease for `owner` if it is free, expired or already `owner`'s (then it is
   * renewed, same term). Resolves with the lease as it now stands: `holder === owner` means
   * it was acquired. `now` comes from the caller's clock.
   */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState>
  /** Extends `owner`'s lease of `term`; throws `LeaseLostError` if it expired or changed hands. */
  renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState>
  /** Gives the lease up at once (if `owner` still holds `term`): the next acquire gets a new term. */
  releaseLease(name: string, owner: string, term: number, now: number): Promise<void>
  readLease(name: string): Promise<LeaseState | undefined>

  /**
   * Optional: the longest stream id, lease or checkpoint name this store takes, in UTF-8 bytes,
   * when it is less than `MAX_ID_BYTES`. Names the framework derives for its own use (a
   * OneActor's lease and proposals) are shortened to fit it. Undefined: the default (a
   * RemoteStore's is undefined until its server has said what its store takes).
   */
  readonly maxIdBytes?: number | undefined

  /** Optional: the store's read-model storage (lib/read), where the engine keeps read models. */
  readModels?(): ReadModelStorage

  /** Releases connections and files; pending appends finish first. */
  close(): Promise<void>

  // Optional store-wide reads for tools (the CLI, the inspector); see StoreCatalog.ts.
  /** Streams in id order, with their versions and last event (a page at a time). */
  listStreams?(options?: ListStreamsOptions): Promise<readonly StreamInfo[]>
  /** Every lease, by name. */
  listLeases?(): Promise<readonly LeaseState[]>
  /** Every checkpoint, by name. */
  listCheckpoints?(): Promise<readonly CheckpointState[]>
}
