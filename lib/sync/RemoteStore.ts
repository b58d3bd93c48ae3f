import type { EventEnvelope, NewEvent } from '../envelope.js'
import { StoreClosedError } from '../errors.js'
import type { AppendQueue, LeftoverAppend } from '../store/kit/AppendQueue.js'
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
import type { SubscribeOptions, Subscription, SubscriptionHandler } from '../store/Subscription.js'
import { IncompleteReadError, SyncUnavailableError } from './errors.js'
import { HttpClient, type Fetch } from './HttpClient.js'
import { liveSubscription } from './liveSubscription.js'
import { CopyWriter } from './local/CopyWriter.js'
import type { LocalCopy, QueuedAppend } from './local/LocalCopy.js'
import { MemoryCopy } from './local/MemoryCopy.js'
import { Outbox } from './Outbox.js'
import { paths, type LeaseRequest, type LeaseResponse } from './protocol.js'
import { SyncLink } from './SyncLink.js'
import type { SyncStatus } from './SyncStatus.js'
import { observeGauges } from '../telemetry/metrics.js'

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
  /**
   * The deadline of every request to the server, in ms (default 10,000): an append, a read (for
   * a streamed read, between its chunks), a lease call, the reconnection probe. Past it the
   * request is aborted and fails with `SyncTimeoutError`: `STORAGE_INDETERMINATE` for an append
   * or a lease change, which may have been applied, `STORAGE_UNAVAILABLE` otherwise. With
   * offline mode an append past it waits and is sent again, same ids, as when unreachable.
   */
  readonly callTimeoutMs?: number
  /**
   * How long a live subscription's feed may stay silent, in ms (default 35,000): the server
   * sends an event or a heartbeat comment every `heartbeatMs` (15 s by default), so a feed
   * silent this long is a dead link (a partition, a dead NAT); it is dropped and reconnected,
   * resuming after the last event delivered. Keep it above the server's `heartbeatMs`.
   */
  readonly liveSilenceMs?: number
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
  private readonly link: SyncLink
  private readonly http: HttpClient
  private readonly local: LocalCopy
  private readonly offline: boolean
  private readonly subscriptions = new Set<Subscription>()
  // Every write of read events goes through it, in read order; live events a turn at a time.
  private readonly writer: CopyWriter
  // Appends on their way to the server (Outbox.ts).
  private readonly outbox: Outbox
  private closed = false

  constructor(private readonly options: RemoteStoreOptions) {
    const fetchFn = options.fetch ?? ((input: string, init?: RequestInit) => globalThis.fetch(input, init))
    this.http = new HttpClient(options.url, options.token, fetchFn, options.callTimeoutMs)
    observeGauges(this, (store, observe) => observe('omniscient.sync.queued', store.status.queued, { 'server.address': options.url }))
    this.local = options.local ?? new MemoryCopy()
    this.offline = options.offline ?? true
    this.link = new SyncLink(this.http, this.local, { initialMs: options.backoff?.initialMs ?? 100, maxMs: options.backoff?.maxMs ?? 10_000 }, this.offline)
    this.writer = new CopyWriter(this.local)
    this.outbox = new Outbox({ link: this.link, local: this.local, writer: this.writer, offline: this.offline, url: options.url, onRejected: options.onRejected })
  }

  /**
   * The longest id the server's store takes, once the server has said so (its `GET /head`
   * answer, asked by `headPosition`, which a LiveActor's Load calls first); kept in copies that
   * can keep it, so a start offline knows it. Undefined: the default limit. Names the framework
   * derives (lib/store/derivedNames.ts) are shortened to fit it.
   */
  get maxIdBytes(): number | undefined {
    return this.link.maxIdBytes
  }

  /** False while the server cannot be reached (reads then serve the local copy). */
  get reachable(): boolean {
    return this.link.board.current.connected
  }

  /** Connected or not, appends waiting for the server, the highest position seen. */
  get status(): SyncStatus {
    return this.link.board.current
  }

  /** Calls `listener` on each change of status; returns the function that stops it. */
  onStatus(listener: (status: SyncStatus) => void): () => void {
    return this.link.board.listen(listener)
  }

  /** Resolves once the appends a previous run left queued have been answered (or the store closes). */
  drained(): Promise<void> {
    return this.outbox.drained()
  }

  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.checkQueueable(streamId, events, options)
    return this.outbox.append(streamId, events, options)
  }

  /**
   * Queues the append at once (durably where the copy is) and sends it after the earlier
   * `appendInOrder` calls and leftovers on the same stream, one at a time. With `after` (an
   * earlier append it was made on top of) it is not sent when that one was refused
   * (`AppendNotSentError`). A LiveActor uses it to keep several predicted Fires in flight
   * (docs/sync.md).
   */
  async appendInOrder(streamId: string, events: readonly NewEvent[], options: AppendOptions, after?: Promise<unknown>): Promise<AppendResult> {
    this.checkQueueable(streamId, events, options)
    return this.outbox.appendInOrder(streamId, events, options, after)
  }

  /** Gives up an append held after a conflict (see AppendQueue): it leaves the queue. */
  forget(eventId: string): Promise<void> {
    return this.outbox.forget(eventId)
  }

  /** The appends to `streamId` a previous run left queued, still being sent again, with their outcomes. */
  leftovers(streamId: string): Promise<readonly LeftoverAppend[]> {
    return this.outbox.leftovers(streamId)
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
        this.link.seen(event)
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
          if (!this.link.board.current.connected) this.link.connected(true)
          this.link.seen(event)
          if (keep) page.push(event)
          if (page.length >= 256) await this.writer.keep(streamId, page.splice(0))
          last = event.version
          yield event
        }
        break
      } catch (err) {
        if (!(err instanceof SyncUnavailableError && this.offline)) throw err
        if (last >= from && !resumed) continue
        await this.link.offlineOr(err)
        this.link.connected(false)
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
      if (page.length > 0) this.link.seen(page[page.length - 1]!)
      yield* page
    }
  }

  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    this.assertOpen()
    const subscription = liveSubscription(this.http, options, handler, {
      connected: (up) => this.link.connected(up),
      delivered: (event) => {
        this.link.seen(event)
        if (options.streamId !== undefined) this.writer.later(event)
      },
      backoff: (failures) => this.link.backoff(failures),
      // A live feed waits for its server even without offline mode, once it has answered.
      unavailable: (err) => this.link.offlineOr(err, true),
    }, this.options.liveSilenceMs)
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
      await this.link.offlineOr(err)
      this.link.connected(false)
      await this.writer.flush()
      return this.local.knownVersion(streamId)
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen()
    try {
      const { position } = await this.link.head()
      this.link.board.update({ connected: true, lastPosition: Math.max(position, this.link.board.current.lastPosition) })
      return position
    } catch (err) {
      await this.link.offlineOr(err)
      this.link.connected(false)
      // What the copy remembers of the server's limits is known before an actor derives names.
      await this.link.limitsLoaded
      return this.link.board.current.lastPosition
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
    this.link.close()
    await Promise.all([...this.subscriptions].map((s) => s.close()))
    await this.outbox.close()
    await this.link.settled()
    await this.writer.flush()
    await this.local.close()
  }

  private async lease(name: string, request: LeaseRequest): Promise<LeaseState | null> {
    return (await this.http.postJson<LeaseResponse>(paths.lease(name), request)).lease
  }

  /** The same argument rules as every adapter, checked before anything is queued. */
  private checkQueueable(streamId: string, events: readonly NewEvent[], options: AppendOptions): void {
    checkAppend(streamId, events, options, this.maxIdBytes)
    // Refused here as every adapter refuses it, before it is queued: JSON cannot carry it.
    for (const event of events) encodeEvent(streamId, event)
    this.assertOpen()
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError(`the RemoteStore of ${this.options.url}`)
  }
}
