import type { EventEnvelope, NewEvent } from '../envelope.js'
import { ConcurrencyError, StorageError } from '../errors.js'
import { checkAppend, checkCheckpoint, checkLease, checkReadAll, checkReadStream } from '../store/arguments.js'
import { encodeEvent } from '../store/eventJson.js'
import type {
  AppendOptions,
  AppendResult,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from '../store/StorageAdapter.js'
import { sleep, type SubscribeOptions, type Subscription, type SubscriptionHandler } from '../store/Subscription.js'
import { SyncUnavailableError } from './errors.js'
import { HttpClient, type Fetch } from './HttpClient.js'
import { liveSubscription } from './liveSubscription.js'
import type { LocalCopy, QueuedAppend } from './local/LocalCopy.js'
import { MemoryCopy } from './local/MemoryCopy.js'
import { paths, toEnvelope, type AppendRequest, type AppendResponse, type LeaseRequest, type LeaseResponse } from './protocol.js'
import { SyncStatusBoard, type SyncStatus } from './SyncStatus.js'

/** Options of a RemoteStore. */
export interface RemoteStoreOptions {
  /** Where the sync server is mounted, e.g. 'https://api.example/sync'. */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>` on every request. */
  readonly token?: string
  /** What the device keeps: read events, snapshots, checkpoints, queued appends. Default: a `MemoryCopy`. */
  readonly local?: LocalCopy
  /**
   * While the server is unreachable, appends wait in the local copy's queue and are sent again,
   * with the same ids, once it answers; reads serve what the copy holds. Default true. With
   * false, an unreachable server fails the call with `SyncUnavailableError`.
   */
  readonly offline?: boolean
  /** Reconnection waits: from `initialMs`, doubling, up to `maxMs` (with jitter). Default 100 ms .. 10 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number }
  /** Default: the platform's `fetch`. */
  readonly fetch?: Fetch
  /**
   * Told about appends that a previous run queued and the server then refused (no Fire waits
   * for them any more). Default: `console.error`.
   */
  readonly onRejected?: (append: QueuedAppend, err: unknown) => void
}

/**
 * A StorageAdapter that speaks the sync protocol to a `serveSync` server, so any actor kind runs
 * unchanged in another process or in a browser. It keeps a local copy of what it reads (a Load
 * after a restart fetches only the tail), queues appends while the server is unreachable and
 * sends them again with the same ids (each is stored once), and reports its status.
 * It uses only `fetch` and web streams: no Node built-ins.
 *
 * @example
 * const store = new RemoteStore({ url: 'https://api.example/sync', token })
 * const counter = await new Counter('the-counter', createContainer({ store })).Load()
 * store.onStatus((s) => badge.textContent = s.connected ? '' : `offline, ${s.queued} queued`)
 */
export class RemoteStore implements StorageAdapter {
  private readonly http: HttpClient
  private readonly local: LocalCopy
  private readonly offline: boolean
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly board = new SyncStatusBoard()
  private readonly subscriptions = new Set<Subscription>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private reconnecting: Promise<void> | undefined
  private closed = false
  private readonly recovered: Promise<void>

  constructor(private readonly options: RemoteStoreOptions) {
    const fetchFn = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init))
    this.http = new HttpClient(options.url, options.token, fetchFn)
    this.local = options.local ?? new MemoryCopy()
    this.offline = options.offline ?? true
    this.initialMs = options.backoff?.initialMs ?? 100
    this.maxMs = options.backoff?.maxMs ?? 10_000
    this.recovered = this.resendLeftovers()
    this.recovered.catch(() => undefined)
  }

  /** Connected or not, appends waiting for the server, the highest position seen. */
  get status(): SyncStatus {
    return this.board.current
  }

  /** Calls `listener` on each change of status; returns the function that stops it. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    return this.board.listen(listener)
  }

  /** Resolves once the appends a previous run left queued have been answered (or the store closes). */
  async drained(): Promise<void> {
    await this.recovered
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    // The same argument rules as every adapter, checked before anything is queued.
    checkAppend(streamId, events, options)
    // Refused here as every adapter refuses it, before it is queued: JSON cannot carry it.
    for (const event of events) encodeEvent(streamId, event)
    this.assertOpen()
    const queued = await this.local.enqueue({ streamId, events, expectedVersion: options.expectedVersion, ...(options.lease ? { lease: options.lease } : {}) })
    this.board.update({ queued: this.board.current.queued + 1 })
    return this.track(this.deliver(queued))
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadStream(streamId, options)
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER
    let from = Math.max(1, options.fromVersion ?? 1)
    const known = await this.local.knownVersion(streamId)
    if (from <= known) {
      for await (const event of this.local.readStream(streamId, from, Math.min(to, known))) yield event
      from = known + 1
    }
    if (from > to) return
    // What the server has beyond the copy; kept when it continues the copy's prefix.
    const keep = from === known + 1
    let page: EventEnvelope[] = []
    try {
      for await (const event of this.http.events(paths.streamEvents(streamId), { fromVersion: from, toVersion: options.toVersion })) {
        this.seen(event)
        if (keep) page.push(event)
        if (page.length >= 256) {
          await this.local.keep(streamId, page)
          page = []
        }
        yield event
      }
    } catch (err) {
      // Offline, a read gives what the device holds: the last known server state.
      if (!(err instanceof SyncUnavailableError && this.offline)) throw err
      this.board.update({ connected: false })
    }
    if (page.length > 0) await this.local.keep(streamId, page)
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    checkReadAll(options)
    for await (const page of this.http.pages(paths.events(), { fromPosition: options.fromPosition })) {
      if (page.length > 0) this.seen(page[page.length - 1]!)
      yield* page
    }
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    // A closed store opens no connection: the subscription is over before it starts.
    if (this.closed) return { nextPosition: Math.max(1, options.fromPosition ?? 1), done: Promise.resolve(), close: async () => {} }
    const subscription = liveSubscription(this.http, options, handler, {
      connected: (up) => this.board.update({ connected: up }),
      delivered: (event) => {
        this.seen(event)
        if (options.streamId !== undefined) this.local.keep(event.streamId, [event]).catch(() => undefined)
      },
      backoff: (failures) => this.backoff(failures),
    })
    this.subscriptions.add(subscription)
    void subscription.done.finally(() => this.subscriptions.delete(subscription)).catch(() => undefined)
    return subscription
  }

  async streamVersion(streamId: string): Promise<number> {
    checkReadStream(streamId, undefined)
    try {
      return (await this.http.getJson<{ version: number }>(paths.stream(streamId))).version
    } catch (err) {
      if (!(err instanceof SyncUnavailableError && this.offline)) throw err
      this.board.update({ connected: false })
      return this.local.knownVersion(streamId)
    }
  }

  async headPosition(): Promise<number> {
    try {
      const { position } = await this.http.getJson<{ position: number }>(paths.head())
      this.board.update({ connected: true, lastPosition: Math.max(position, this.board.current.lastPosition) })
      return position
    } catch (err) {
      if (!(err instanceof SyncUnavailableError && this.offline)) throw err
      this.board.update({ connected: false })
      return this.board.current.lastPosition
    }
  }

  // Snapshots and checkpoints are the device's own: a snapshot is a cache of this device's
  // replay, a checkpoint what this device's listener handled. Neither is trusted by others.
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.local.saveSnapshot(snapshot)
  }

  loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    return this.local.loadSnapshot(actorType, streamId)
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    checkCheckpoint(name, position)
    return this.local.saveCheckpoint(name, position)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    checkCheckpoint(name)
    return this.local.loadCheckpoint(name)
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { ttlMs })
    return this.lease(name, { op: 'acquire', owner, ttlMs, now }) as Promise<LeaseState>
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    checkLease(name, owner, now, { term, ttlMs })
    return this.lease(name, { op: 'renew', owner, term, ttlMs, now }) as Promise<LeaseState>
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    checkLease(name, owner, now, { term })
    await this.lease(name, { op: 'release', owner, term, now })
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    checkCheckpoint(name)
    return (await this.http.getJson<LeaseResponse>(paths.lease(name))).lease ?? undefined
  }

  /** Stops live delivery, waits for appends on the wire, and closes the local copy. Queued appends stay queued. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((s) => s.close()))
    await Promise.allSettled([...this.inFlight])
    await this.recovered
    await this.local.close()
  }

  private async lease(name: string, request: LeaseRequest): Promise<LeaseState | null> {
    return (await this.http.postJson<LeaseResponse>(paths.lease(name), request)).lease
  }

  /**
   * Sends a queued append until the server answers. Unreachable: wait for the connection and
   * send again, same ids, so it is stored once whatever happened to the previous attempt.
   */
  private async deliver(queued: QueuedAppend): Promise<AppendResult> {
    const body: AppendRequest = { expectedVersion: queued.expectedVersion, events: queued.events, ...(queued.lease ? { lease: queued.lease } : {}) }
    for (let failures = 0; ; failures++) {
      try {
        const result = await this.http.postJson<AppendResponse>(paths.streamEvents(queued.streamId), body)
        const events = result.events.map((e) => toEnvelope(e))
        await this.answered(queued)
        for (const e of events) this.seen(e)
        await this.local.keep(queued.streamId, events)
        this.board.update({ connected: true })
        return { events, alreadyStored: result.alreadyStored }
      } catch (err) {
        if (!(err instanceof SyncUnavailableError) || !this.offline) {
          if (!(err instanceof SyncUnavailableError)) await this.answered(queued)
          throw err
        }
        this.board.update({ connected: false })
        if (this.closed) throw err
        await this.reconnected(failures)
        if (this.closed) throw err
      }
    }
  }

  private async answered(queued: QueuedAppend): Promise<void> {
    await this.local.dequeue(queued.seq)
    this.board.update({ queued: Math.max(0, this.board.current.queued - 1) })
  }

  /** One probe for everyone waiting: resolves when the server answers again (or the store closes). */
  private reconnected(failures: number): Promise<void> {
    this.reconnecting ??= (async () => {
      for (let n = failures; !this.closed; n++) {
        await sleep(this.backoff(n)).promise
        try {
          await this.http.getJson(paths.head())
          this.board.update({ connected: true })
          return
        } catch {
          // Still unreachable: wait longer.
        }
      }
    })().finally(() => (this.reconnecting = undefined))
    return this.reconnecting
  }

  /**
   * Appends a previous run queued and never saw answered: sent again with the same ids. No
   * Fire waits for them; one that now conflicts goes on top of the stream as it is (the
   * unacknowledged change wins, as a LiveActor's rebase would), one refused is reported.
   */
  private async resendLeftovers(): Promise<void> {
    const leftovers = await this.local.queued()
    if (leftovers.length === 0) return
    this.board.update({ queued: this.board.current.queued + leftovers.length })
    for (const queued of leftovers) {
      if (this.closed) return
      try {
        await this.track(this.deliver(queued))
      } catch (err) {
        if (this.closed) return
        if (err instanceof ConcurrencyError) {
          const again = await this.local.enqueue({ ...queued, expectedVersion: 'any' })
          this.board.update({ queued: this.board.current.queued + 1 })
          await this.track(this.deliver(again)).catch((e: unknown) => this.rejected(queued, e))
        } else {
          this.rejected(queued, err)
        }
      }
    }
  }

  private rejected(queued: QueuedAppend, err: unknown): void {
    if (this.options.onRejected) this.options.onRejected(queued, err)
    else console.error(`[omniscient-actors] a queued append to "${queued.streamId}" was refused by the sync server:`, err)
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise)
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined)
    return promise
  }

  private seen(event: EventEnvelope): void {
    if (event.position > this.board.current.lastPosition) this.board.update({ lastPosition: event.position })
  }

  private backoff(failures: number): number {
    const ms = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(failures, 20))
    return ms / 2 + (Math.random() * ms) / 2
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('the RemoteStore is closed', { code: 'CLOSED' })
  }
}
