import { deferred } from '../deferred.js'
import type { NewEvent } from '../envelope.js'
import { ConcurrencyError, StoreClosedError } from '../errors.js'
import { AppendNotSentError, type LeftoverAppend } from '../store/kit/AppendQueue.js'
import type { AppendOptions, AppendResult } from '../store/StorageAdapter.js'
import { SyncUnavailableError } from './errors.js'
import type { CopyWriter } from './local/CopyWriter.js'
import type { LocalCopy, QueuedAppend } from './local/LocalCopy.js'
import { paths, toEnvelope, type AppendRequest, type AppendResponse } from './protocol.js'
import type { SyncLink } from './SyncLink.js'

/** What an Outbox is built with: the RemoteStore's link, copy and copy writer, and its options. */
export interface OutboxParts {
  readonly link: SyncLink
  readonly local: LocalCopy
  readonly writer: CopyWriter
  /** Wait for the server while it is unreachable (RemoteStore's `offline`). */
  readonly offline: boolean
  /** Where the store is, as StoreClosedError names it. */
  readonly url: string
  readonly onRejected: ((append: QueuedAppend, err: unknown) => void) | undefined
}

/**
 * A RemoteStore's appends on their way to the server: each is queued in the local copy first
 * (durably where the copy is), sent until the server answers (the same ids each time, so it is
 * stored once), and leaves the queue once answered. `appendInOrder` calls and the leftovers of
 * a previous run go through per-stream lines, one at a time; an append refused by a conflict is
 * held in the queue until it is sent again or given up (AppendQueue).
 */
export class Outbox {
  private readonly link: SyncLink
  private readonly local: LocalCopy
  private readonly writer: CopyWriter
  private readonly inFlight = new Set<Promise<unknown>>()
  // Per stream, the appendInOrder calls and leftovers not yet answered, sent one at a time.
  private readonly lines = new Map<string, LineEntry[]>()
  // Enqueues of appendInOrder run one after another, after the leftovers joined their lines,
  // so a stream's line (and the copy's queue) keeps the order of the calls.
  private enqueueing: Promise<unknown>
  // appendInOrder entries refused by a conflict (or not sent), kept queued until they are sent
  // again or given up: event id -> queue seq.
  private readonly held = new Map<string, number>()
  private readonly recovered: Promise<void>

  constructor(private readonly parts: OutboxParts) {
    this.link = parts.link
    this.local = parts.local
    this.writer = parts.writer
    const leftoversRead = this.local.queued()
    this.enqueueing = leftoversRead.catch(() => undefined)
    this.recovered = this.resendLeftovers(leftoversRead)
    this.recovered.catch(() => undefined)
  }

  /** Resolves once the appends a previous run left queued have been answered (or the store closes). */
  async drained(): Promise<void> {
    await this.recovered
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  /** Queues the append and sends it until the server answers. */
  async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const queued = await this.enqueue(streamId, events, options)
    return this.track(this.deliver(queued))
  }

  /** See AppendQueue.appendInOrder. */
  appendInOrder(streamId: string, events: readonly NewEvent[], options: AppendOptions, after?: Promise<unknown>): Promise<AppendResult> {
    // Nothing awaited before the line is joined below: the calls keep their order.
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

  /** Gives up an append held after a conflict: it leaves the queue. */
  async forget(eventId: string): Promise<void> {
    const done = this.enqueueing.then(() => this.release(eventId))
    this.enqueueing = done.catch(() => undefined)
    await done
  }

  /** The appends to `streamId` a previous run left queued, still being sent again, with their outcomes. */
  async leftovers(streamId: string): Promise<readonly LeftoverAppend[]> {
    await this.enqueueing
    return (this.lines.get(streamId) ?? []).filter((e) => e.leftover).map((e) => ({ events: e.queued.events, outcome: e.outcome! }))
  }

  /** Waits for what is being queued and sent; call after the link closed (sends then stop waiting for the server). */
  async close(): Promise<void> {
    await this.enqueueing
    await Promise.allSettled([...this.inFlight])
    await this.recovered
  }

  private async release(eventId: string): Promise<void> {
    const seq = this.held.get(eventId)
    if (seq === undefined) return
    this.held.delete(eventId)
    await this.answered(seq)
  }

  private async enqueue(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<QueuedAppend> {
    const queued = await this.local.enqueue({ streamId, events, expectedVersion: options.expectedVersion, ...(options.lease ? { lease: options.lease } : {}) })
    this.link.board.update({ queued: this.link.board.current.queued + 1 })
    return queued
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
        const result = await this.link.http.postJson<AppendResponse>(paths.streamEvents(current.streamId), body)
        const events = result.events.map((e) => toEnvelope(e))
        await this.answered(current.seq)
        for (const e of events) this.link.seen(e)
        await this.writer.keep(current.streamId, events)
        this.link.connected(true)
        return { events, alreadyStored: result.alreadyStored }
      } catch (err) {
        if (err instanceof SyncUnavailableError) {
          this.link.connected(false)
          if (this.parts.offline) {
            try {
              // Offline mode waits for a server that has answered before; a wrong URL fails here.
              await this.link.offlineOr(err)
            } catch (refusal) {
              await this.answered(current.seq)
              throw refusal
            }
            if (!this.link.isClosed) await this.link.reconnected(failures)
            // Left in the queue when the store closes: the next start sends it.
            if (this.link.isClosed) throw closedBeforeAnswer(this.parts.url, err)
            continue
          }
        } else {
          this.link.connected(true)
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
        // Closed: nothing more is sent; what waits stays queued for the next start.
        if (this.link.isClosed) throw closedBeforeAnswer(this.parts.url)
        if (entry.after && (await entry.after.then(() => false, () => true))) {
          this.hold(entry.queued)
          throw new AppendNotSentError(streamId, entry.queued.events[0]?.id ?? '')
        }
        entry.resolve(await this.deliver(entry.queued, entry.leftover ? 'any' : 'hold'))
      } catch (err) {
        entry.reject(err)
        if (entry.leftover && !this.link.isClosed) this.rejected(entry.queued, err)
      } finally {
        line.shift()
      }
    }
    this.lines.delete(streamId)
  }

  private async answered(seq: number): Promise<void> {
    await this.local.dequeue(seq)
    this.link.board.update({ queued: Math.max(0, this.link.board.current.queued - 1) })
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
    this.link.board.update({ queued: this.link.board.current.queued + leftovers.length })
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
    if (this.parts.onRejected) this.parts.onRejected(queued, err)
    else console.error(`[omniscient-actors] a queued append to "${queued.streamId}" was refused by the sync server:`, err)
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise)
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => undefined)
    return promise
  }
}

function closedBeforeAnswer(url: string, cause?: unknown): StoreClosedError {
  return new StoreClosedError(`the RemoteStore of ${url}`, 'it closed before the server answered; the append stays queued and is sent at the next start', cause === undefined ? {} : { cause })
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
