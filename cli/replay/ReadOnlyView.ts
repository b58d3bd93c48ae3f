import {
  StorageError,
  type AppendResult,
  type EventEnvelope,
  type LeaseState,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Snapshot,
  type StorageAdapter,
  type Subscription,
} from '../../node.js'

/** Called while an actor replays, each time it has applied one event. */
export type AppliedHook = (event: EventEnvelope) => Promise<void> | void

/** Which stream to cut, and where. */
export interface ReplayCut {
  readonly streamId: string
  /** The last version the actor may see. */
  readonly toVersion?: number
  /** Called after the actor applied each event of the stream. */
  readonly onApplied?: AppliedHook
}

/** The lease a replayed OneActor sees: held by nobody it could be, so it stays a follower. */
const NOT_YOURS = 'omniscient (read-only view)'

/**
 * A read-only StorageAdapter over a real one, for replaying an actor outside its service:
 * reads pass through (the cut stream stops at `toVersion`), snapshots are ignored so that
 * every event is applied, nothing is ever written (appends are refused, snapshots and
 * checkpoints dropped), subscriptions deliver nothing and leases are always someone else's.
 *
 * The stream is read as the actor consumes it: the actor asks for the next event only once it
 * has applied the previous one, which is when `onApplied` runs, so a hook sees the state each
 * event made.
 */
export class ReadOnlyView implements StorageAdapter {
  constructor(
    private readonly inner: StorageAdapter,
    private readonly cut: ReplayCut,
  ) {}

  append(streamId: string): Promise<AppendResult> {
    return Promise.reject(new StorageError(`read-only view: nothing is written to "${streamId}"`, { code: 'READ_ONLY' }))
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    if (streamId !== this.cut.streamId) {
      yield* this.inner.readStream(streamId, options)
      return
    }
    const to = Math.min(options.toVersion ?? Number.MAX_SAFE_INTEGER, this.cut.toVersion ?? Number.MAX_SAFE_INTEGER)
    let previous: EventEnvelope | undefined
    for await (const event of this.inner.readStream(streamId, { ...options, toVersion: to })) {
      if (previous) await this.cut.onApplied?.(previous)
      yield event
      previous = event
    }
    if (previous) await this.cut.onApplied?.(previous)
  }

  readAll(options?: ReadAllOptions): AsyncIterable<EventEnvelope> {
    return this.inner.readAll(options)
  }

  subscribe(): Subscription {
    let close = () => {}
    const done = new Promise<void>((resolve) => (close = resolve))
    return { done, nextPosition: 1, close: async () => close() }
  }

  async streamVersion(streamId: string): Promise<number> {
    const version = await this.inner.streamVersion(streamId)
    return streamId === this.cut.streamId && this.cut.toVersion !== undefined ? Math.min(version, this.cut.toVersion) : version
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition()
  }

  async saveSnapshot(_snapshot: Snapshot): Promise<void> {}

  async loadSnapshot(): Promise<Snapshot | undefined> {
    return undefined
  }

  async saveCheckpoint(): Promise<void> {}

  loadCheckpoint(name: string): Promise<number | undefined> {
    return this.inner.loadCheckpoint(name)
  }

  async acquireLease(name: string, _owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    return { name, holder: NOT_YOURS, term: 0, expiresAt: now + ttlMs }
  }

  renewLease(name: string): Promise<LeaseState> {
    return Promise.reject(new StorageError(`read-only view: lease "${name}" is not renewed`, { code: 'READ_ONLY' }))
  }

  async releaseLease(): Promise<void> {}

  readLease(name: string): Promise<LeaseState | undefined> {
    return this.inner.readLease(name)
  }

  /** Leaves the real store open: its owner closes it. */
  async close(): Promise<void> {}
}
