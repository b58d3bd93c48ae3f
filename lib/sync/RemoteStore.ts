import { deferred } from '../deferred.js'
import type { EventEnvelope, NewEvent } from '../envelope.js'
import { ConcurrencyError, StoreClosedError } from '../errors.js'
import { AppendNotSentError, type AppendQueue, type LeftoverAppend } from '../store/kit/AppendQueue.js'
import { checkAppend, checkCheckpoint, checkIdentifier, checkLease, checkReadAll, checkReadStream } from '../store/kit/arguments.js'
import { encodeEvent } from '../store/kit/eventJson.js'
import type {
  AppendOptions,
  AppendResult,
  LeaseState,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StorageAdapter,
} from '../store/StorageAdapter.js'
import { sleep, type SubscribeOptions, type Subscription, type SubscriptionHandler, type Wait } from '../store/Subscription.js'
import { IncompleteReadError, SyncUnavailableError } from './errors.js'
import { HttpClient, type Fetch } from './HttpClient.js'
import { liveSubscription } from './liveSubscription.js'
import { CopyWriter } from './local/CopyWriter.js'
import type { LocalCopy, QueuedAppend, ServerLimits } from './local/LocalCopy.js'
import { MemoryCopy } from './local/MemoryCopy.js'
import { paths, toEnvelope, type AppendRequest, type AppendResponse, type HeadResponse, type LeaseRequest, type LeaseResponse } from './protocol.js'
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
export class RemoteStore implements StorageAdapter, AppendQueue {
  private readonly http: HttpClient
  private readonly local: LocalCopy
  private readonly offline: boolean
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly board = new SyncStatusBoard()
  private readonly subscriptions = new Set<Subscription>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private reconnecting: Promise<void> | undefined
  // The backoff sleep of the reconnection probe: close() cuts it short.
  private probePause: Wait | undefined
  // Every write of read events goes through it, in read order; live events a turn at a time.
  private readonly writer: CopyWriter
  // What the server said of its store's limits (GET /head), or the copy's memory of it.
  private limits: ServerLimits | undefined
  private readonly limitsLoaded: Promise<void>
  private closed = false
  private readonly recovered: Promise<void>
  // Per stream, the appendInOrder calls and leftovers not yet answered, sent one at a time.
  private readonly lines = new Map<string, LineEntry[]>()
  // Enqueues of appendInOrder run one after another, after the leftovers joined their lines,
  // so a stream's line (and the copy's queue) keeps the order of the calls.
  private enqueueing: Promise<unknown>
  // appendInOrder entries refused by a conflict (or not sent), kept queued until they are sent
  // again or given up: event id -> queue seq.
  private readonly held = new Map<string, number>()

  constructor(private readonly options: RemoteStoreOptions) {
    const fetchFn = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init))
    this.http = new HttpClient(options.url, options.token, fetchFn)
    this.local = options.local ?? new MemoryCopy()
    this.offline = options.offline ?? true
    this.initialMs = options.backoff?.initialMs ?? 100
    this.maxMs = options.backoff?.maxMs ?? 10_000
    this.writer = new CopyWriter(this.local)
    this.limitsLoaded = (this.local.loadLimits?.() ?? Promise.resolve(undefined)).then(
      (held) => void (this.limits ??= held),
      () => undefined,
    )
    const leftoversRead = this.local.queued()
    this.enqueueing = leftoversRead.catch(() => undefined)
    this.recovered = this.resendLeftovers(leftoversRead)
    this.recovered.catch(() => undefined)
  }

  /**
   * The longest id the server's store takes, once the server has said so (its `GET /head`
   * answer, asked by `headPosition`, which a LiveActor's Load calls first); kept in copies that
   * can keep it, so a start offline knows it. Undefined: the default limit. Names the framework
   * derives (actors/derivedNames.ts) are shortened to fit it.
   */
  get maxIdBytes(): number | undefined {
    return this.limits?.maxIdBytes
  }

  /** False while the server cannot be reached (reads then serve the local copy). */
  get reachable(): boolean {
    return this.board.current.connected
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
    this.checkQueueable(streamId, events, options)
    const queued = await this.enqueue(streamId, events, options)
    return this.track(this.deliver(queued))
  }

  /**
   * Queues the append at once (durably where the copy is) and sends it after the earlier
   * `appendInOrder` calls and leftovers on the same stream, one at a time. With `after` (an
   * earlier append it was made on top of) it is not sent when that one was refused
   * (`AppendNotSentError`). A LiveActor uses it to keep several predicted Fires in flight
   * (docs/sync.md).
   */
  async appendInOrder(streamId: string, events: readonly NewEvent[], options: AppendOptions, after?: Promise<unknown>): Promise<AppendResult> {
    // Nothing awaited before the line is joined below: the calls keep their order.
    this.checkQueueable(streamId, events, options)
    const { promise, resolve, reject } = deferred<AppendResult>()
    const enqueued = this.enqueueing.then(async () => {
      const queued = await this.enqueue(streamId, events, options)
      // Sent again: the held entry leaves only now that its replacement is queued.
      for (const event of events) await this.release(event.id)
      this.joinLine({ queued, leftover: false, resolve, reject, ...(after ? { after } : {}) })
    })
    this.enqueueing = enqueued.catch(() => undefined)
    enqueued.catch(reject)
    return this.track(promise)
  }

  /** Gives up an append held after a conflict (see AppendQueue): it leaves the queue. */
  async forget(eventId: string): Promise<void> {
    const done = this.enqueueing.then(() => this.release(eventId))
    this.enqueueing = done.catch(() => undefined)
    await done
  }

  private async release(eventId: string): Promise<void> {
    const seq = this.held.get(eventId)
    if (seq === undefined) return
    this.held.delete(eventId)
    await this.answered(seq)
  }

  /** The appends to `streamId` a previous run left queued, still being sent again, with their outcomes. */
  async leftovers(streamId: string): Promise<readonly LeftoverAppend[]> {
    await this.enqueueing
    return (this.lines.get(streamId) ?? []).filter((e) => e.leftover).map((e) => ({ events: e.queued.events, outcome: e.outcome! }))
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen()
    checkReadStream(streamId, options)
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER
    let from = Math.max(1, options.fromVersion ?? 1)
    // Live events delivered before this read are in the copy before it is read.
    await this.writer.flush()
    const known = await this.local.knownVersion(streamId)
    if (from <= known) {
      for await (const event of this.local.readStream(streamId, from, Math.min(to, known))) {
        // Seen before this run too: after a restart offline, the status still says how far the device is.
        this.seen(event)
        yield event
      }
      from = known + 1
    }
    if (from > to) return
    // What the server has beyond the copy; kept when it continues the copy's prefix.
    const keep = from === known + 1
    const page: EventEnvelope[] = []
    let last = from - 1
    // An answer cut off after some of its events is resumed once from the next version.
    for (let resumed = false; ; resumed = true) {
      try {
        for await (const event of this.http.events(paths.streamEvents(streamId), { fromVersion: last + 1, toVersion: options.toVersion })) {
          if (!this.board.current.connected) this.board.update({ connected: true })
          this.seen(event)
          if (keep) page.push(event)
          if (page.length >= 256) await this.writer.keep(streamId, page.splice(0))
          last = event.version
          yield event
        }
        break
      } catch (err) {
        if (!(err instanceof SyncUnavailableError && this.offline)) throw err
        if (last >= from && !resumed) continue
        this.board.update({ connected: false })
        // Offline, a read gives the last known server state: the copy's prefix, with what this
        // read added to it. Events past a hole in the copy are not that: say the read is cut.
        if (last >= from && !keep) throw new IncompleteReadError(streamId, last, known, err)
        break
      } finally {
        if (page.length > 0) await this.writer.keep(streamId, page.splice(0))
      }
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope> {
    this.assertOpen()
    checkReadAll(options)
    for await (const page of this.http.pages(paths.events(), { fromPosition: options.fromPosition })) {
      if (page.length > 0) this.seen(page[page.length - 1]!)
      yield* page
    }
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    const subscription = liveSubscription(this.http, options, handler, {
      connected: (up) => this.board.update({ connected: up }),
      delivered: (event) => {
        this.seen(event)
        if (options.streamId !== undefined) this.writer.later(event)
      },
      backoff: (failures) => this.backoff(failures),
    })
    this.subscriptions.add(subscription)
    void subscription.done.finally(() => this.subscriptions.delete(subscription)).catch(() => undefined)
    return subscription
  }

  async streamVersion(streamId: string): Promise<number> {
    this.assertOpen()
    checkReadStream(streamId, undefined)
    try {
      return (await this.http.getJson<{ version: number }>(paths.stream(streamId))).version
    } catch (err) {
      if (!(err instanceof SyncUnavailableError && this.offline)) throw err
      this.board.update({ connected: false })
      await this.writer.flush()
      return this.local.knownVersion(streamId)
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen()
    try {
      const { position } = await this.head()
      this.board.update({ connected: true, lastPosition: Math.max(position, this.board.current.lastPosition) })
      return position
    } catch (err) {
      if (!(err instanceof SyncUnavailableError && this.offline)) throw err
      this.board.update({ connected: false })
      // What the copy remembers of the server's limits is known before an actor derives names.
      await this.limitsLoaded
      return this.board.current.lastPosition
    }
  }

  // Snapshots and checkpoints are the device's own: a snapshot is a cache of this device's
  // replay, a checkpoint what this device's listener handled. Neither is trusted by others.
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.assertOpen()
    // After the events read before it: a copy never holds a snapshot ahead of its events.
    return this.writer.after(() => this.local.saveSnapshot(snapshot))
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    this.assertOpen()
    return this.local.loadSnapshot(actorType, streamId)
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    this.assertOpen()
    checkCheckpoint(name, position)
    return this.local.saveCheckpoint(name, position)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    this.assertOpen()
    checkCheckpoint(name)
    return this.local.loadCheckpoint(name)
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    this.assertOpen()
    checkLease(name, owner, now, { ttlMs })
    return this.lease(name, { op: 'acquire', owner, ttlMs, now }) as Promise<LeaseState>
  }

  async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    this.assertOpen()
    checkLease(name, owner, now, { term, ttlMs })
    return this.lease(name, { op: 'renew', owner, term, ttlMs, now }) as Promise<LeaseState>
  }

  async releaseLease(name: string, owner: string, term: number, now: number): Promise<void> {
    this.assertOpen()
    checkLease(name, owner, now, { term })
    await this.lease(name, { op: 'release', owner, term, now })
  }

  async readLease(name: string): Promise<LeaseState | undefined> {
    this.assertOpen()
    checkIdentifier(name, 'name')
    return (await this.http.getJson<LeaseResponse>(paths.lease(name))).lease ?? undefined
  }

  /** Stops live delivery, waits for appends on the wire, and closes the local copy. Queued appends stay queued. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // An append waiting out the backoff to probe the server again stops waiting.
    this.probePause?.cancel()
    await Promise.all([...this.subscriptions].map((s) => s.close()))
    await this.enqueueing
    await Promise.allSettled([...this.inFlight])
    await this.recovered
    await this.writer.flush()
    await this.local.close()
  }

  /** `GET /head`; learns the server's limits from the answer and keeps them in the copy when they change. */
  private async head(): Promise<HeadResponse> {
    const answer = await this.http.getJson<HeadResponse>(paths.head())
    await this.limitsLoaded
    const limits: ServerLimits = typeof answer.maxIdBytes === 'number' ? { maxIdBytes: answer.maxIdBytes } : {}
    if (this.limits?.maxIdBytes !== limits.maxIdBytes || this.limits === undefined) {
      this.limits = limits
      await this.local.saveLimits?.(limits).catch(() => undefined)
    }
    return answer
  }

  private async lease(name: string, request: LeaseRequest): Promise<LeaseState | null> {
    return (await this.http.postJson<LeaseResponse>(paths.lease(name), request)).lease
  }

  /**
   * Sends a queued append until the server answers. Unreachable: wait for the connection and
   * send again, same ids, so it is stored once whatever happened to the previous attempt. With
   * `onConflict: 'any'` (a leftover of a previous run) a version conflict sends it again on top
   * of the stream as it is; the new entry is queued before the old one leaves, so a crash in
   * between loses neither (the ids keep it stored once).
   */
  private async deliver(queued: QueuedAppend, onConflict?: 'any' | 'hold'): Promise<AppendResult> {
    let current = queued
    for (let failures = 0; ; failures++) {
      const body: AppendRequest = { expectedVersion: current.expectedVersion, events: current.events, ...(current.lease ? { lease: current.lease } : {}) }
      try {
        const result = await this.http.postJson<AppendResponse>(paths.streamEvents(current.streamId), body)
        const events = result.events.map((e) => toEnvelope(e))
        await this.answered(current.seq)
        for (const e of events) this.seen(e)
        await this.writer.keep(current.streamId, events)
        this.board.update({ connected: true })
        return { events, alreadyStored: result.alreadyStored }
      } catch (err) {
        if (err instanceof SyncUnavailableError) {
          this.board.update({ connected: false })
          if (this.offline) {
            if (!this.closed) await this.reconnected(failures)
            // Left in the queue when the store closes: the next start sends it.
            if (this.closed) throw closedBeforeAnswer(this.options.url, err)
            continue
          }
        } else {
          this.board.update({ connected: true })
          if (err instanceof ConcurrencyError && onConflict === 'hold') {
            // Its sender rebases it: kept queued until it is sent again or given up.
            this.hold(current)
            throw err
          }
          if (err instanceof ConcurrencyError && onConflict === 'any' && current.expectedVersion !== 'any') {
            const again = await this.local.enqueue({ ...current, expectedVersion: 'any' })
            await this.local.dequeue(current.seq)
            current = again
            failures = -1
            continue
          }
        }
        // Refused (or unreachable without offline mode): the caller hears of it, the queue forgets it.
        await this.answered(current.seq)
        throw err
      }
    }
  }

  /** The same argument rules as every adapter, checked before anything is queued. */
  private checkQueueable(streamId: string, events: readonly NewEvent[], options: AppendOptions): void {
    checkAppend(streamId, events, options, this.maxIdBytes)
    // Refused here as every adapter refuses it, before it is queued: JSON cannot carry it.
    for (const event of events) encodeEvent(streamId, event)
    this.assertOpen()
  }

  private async enqueue(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<QueuedAppend> {
    const queued = await this.local.enqueue({ streamId, events, expectedVersion: options.expectedVersion, ...(options.lease ? { lease: options.lease } : {}) })
    this.board.update({ queued: this.board.current.queued + 1 })
    return queued
  }

  private hold(queued: QueuedAppend): void {
    for (const event of queued.events) this.held.set(event.id, queued.seq)
  }

  /** Adds an entry to its stream's line, and starts the line when it was idle. */
  private joinLine(entry: LineEntry): void {
    const streamId = entry.queued.streamId
    const line = this.lines.get(streamId)
    if (line) {
      line.push(entry)
      return
    }
    const fresh = [entry]
    this.lines.set(streamId, fresh)
    void this.track(this.runLine(streamId, fresh))
  }

  /** Sends a stream's line in order; one made on top of a refused append is not sent. */
  private async runLine(streamId: string, line: LineEntry[]): Promise<void> {
    while (line.length > 0) {
      const entry = line[0]!
      try {
        if (entry.after && (await entry.after.then(() => false, () => true))) {
          this.hold(entry.queued)
          throw new AppendNotSentError(streamId, entry.queued.events[0]?.id ?? '')
        }
        entry.resolve(await this.deliver(entry.queued, entry.leftover ? 'any' : 'hold'))
      } catch (err) {
        entry.reject(err)
        if (entry.leftover && !this.closed) this.rejected(entry.queued, err)
      } finally {
        line.shift()
      }
    }
    this.lines.delete(streamId)
  }

  private async answered(seq: number): Promise<void> {
    await this.local.dequeue(seq)
    this.board.update({ queued: Math.max(0, this.board.current.queued - 1) })
  }

  /** One probe for everyone waiting: resolves when the server answers again (or the store closes). */
  private reconnected(failures: number): Promise<void> {
    this.reconnecting ??= (async () => {
      for (let n = failures; !this.closed; n++) {
        this.probePause = sleep(this.backoff(n))
        await this.probePause.promise
        this.probePause = undefined
        if (this.closed) return
        try {
          await this.head()
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
   * Appends a previous run queued and never saw answered: sent again with the same ids, in
   * order per stream. No Fire waits for them; one that now conflicts goes on top of the stream
   * as it is (the unacknowledged change wins, as a LiveActor's rebase would), one refused is
   * reported. A LiveActor shows those of its stream as predictions (`leftovers`).
   */
  private async resendLeftovers(read: Promise<QueuedAppend[]>): Promise<void> {
    const leftovers = await read
    if (leftovers.length === 0) return
    this.board.update({ queued: this.board.current.queued + leftovers.length })
    const outcomes: Array<Promise<unknown>> = []
    for (const queued of leftovers) {
      const { promise, resolve, reject } = deferred<AppendResult>()
      promise.catch(() => undefined)
      outcomes.push(promise.catch(() => undefined))
      this.joinLine({ queued, leftover: true, resolve, reject, outcome: promise })
    }
    await Promise.all(outcomes)
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
    if (this.closed) throw new StoreClosedError(`the RemoteStore of ${this.options.url}`)
  }
}

function closedBeforeAnswer(url: string, cause: unknown): StoreClosedError {
  return new StoreClosedError(`the RemoteStore of ${url}`, 'it closed before the server answered; the append stays queued and is sent at the next start', { cause })
}

/** One append waiting in its stream's line. */
interface LineEntry {
  readonly queued: QueuedAppend
  /** Queued by a previous run: no Fire waits for it. */
  readonly leftover: boolean
  readonly resolve: (result: AppendResult) => void
  readonly reject: (err: unknown) => void
  readonly outcome?: Promise<AppendResult>
  /** An earlier append this one was made on top of: refused, this one is not sent. */
  readonly after?: Promise<unknown>
}
