import type { EventEnvelope } from '../../envelope.js'
import { sleep, type ReadPage, type SubscribeOptions, type Subscription, type SubscriptionHandler, type Wait } from '../Subscription.js'

const PAGE = 512
// Events a follower may have waiting for its handler; past that it reads on its own instead,
// so a slow handler costs a re-read, never unbounded memory nor a wait for the others.
export const FOLLOWER_BUFFER = 1_024
const MAX_RETRY_WAIT_MS = 2_000

type Mode = 'reading' | 'following' | 'ended'

/**
 * What a subscription needs of the tail it follows (SharedTail implements it). Declared here,
 * where it is used, so that the tail and its subscriptions do not import each other. `M` is
 * the tail's mark, opaque to the subscription: it takes one before its own read and hands it
 * back when it joins.
 */
export interface FollowedTail<M = unknown> {
  mark(): M | undefined
  join(sub: TailSubscription, mark: M | undefined): boolean
  leave(sub: TailSubscription): void
  forget(sub: TailSubscription): void
  start(): Promise<void>
}

// The tail keeps the envelopes it hands on (for subscriptions joining late) and several
// subscriptions may get the same event: each handler gets its own copy to keep or change.
function copyOf(event: EventEnvelope): EventEnvelope {
  const data: unknown = event.data
  return { ...event, data: typeof data === 'object' && data !== null ? structuredClone(data) : data }
}

/**
 * One subscription of a SharedTail. It reads on its own (`reading`) from its position until
 * it has caught up, then joins the tail (`following`) and is handed events one at a time,
 * the next only once the handler settled. An idle follower holds no timer and no pending
 * read: only its place in the tail's indexes.
 */
export class TailSubscription implements Subscription {
  readonly streamId: string | undefined
  readonly names: ReadonlySet<string> | undefined
  readonly done: Promise<void>
  private readonly onRetry: ((err: unknown) => void) | undefined
  private mode: Mode = 'reading'
  private next: number
  // The stream's version at `next - 1`, when known: a re-read continues by version.
  private lastVersion: number | undefined
  private queue: EventEnvelope[] | undefined
  private busy = false
  private running: Promise<void> | undefined
  private pausing: Wait | undefined
  private resolveDone!: () => void
  private rejectDone!: (err: unknown) => void

  constructor(
    private readonly tail: FollowedTail,
    private readonly readPage: ReadPage,
    options: SubscribeOptions,
    private readonly handler: SubscriptionHandler,
  ) {
    this.streamId = options.streamId
    this.names = options.names ? new Set(options.names) : undefined
    this.onRetry = options.onRetry
    this.next = Math.max(1, options.fromPosition ?? 1)
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve
      this.rejectDone = reject
    })
    // Whoever cares awaits `done`; this only keeps an unobserved failure from crashing Node.
    this.done.catch(() => undefined)
    this.running = this.run()
  }

  get nextPosition(): number {
    return this.next
  }

  async close(): Promise<void> {
    this.end()
    await this.running
    this.resolveDone()
    await this.done.catch(() => undefined)
  }

  /** @internal Whether this subscription delivers `event` (its stream and names). */
  wants(event: EventEnvelope): boolean {
    return (this.streamId === undefined || event.streamId === this.streamId) && (this.names === undefined || this.names.has(event.name))
  }

  /** @internal The tail hands on an event this subscription wants. */
  push(event: EventEnvelope): void {
    if (this.mode !== 'following') return
    const queue = (this.queue ??= [])
    if (queue.length >= FOLLOWER_BUFFER) return this.fallBehind()
    queue.push(event)
    if (!this.busy) this.running = this.run()
  }

  /** @internal The tail's read failed and is retried. */
  retrying(err: unknown): void {
    this.onRetry?.(err)
  }

  // The handler is behind by a whole buffer: leave the tail and read from where it got to.
  private fallBehind(): void {
    this.tail.leave(this)
    this.mode = 'reading'
    this.queue = undefined
    if (!this.busy) this.running = this.run()
  }

  private end(): void {
    if (this.mode === 'ended') return
    if (this.mode === 'following') this.tail.leave(this)
    this.mode = 'ended'
    this.queue = undefined
    this.pausing?.cancel()
    this.tail.forget(this)
  }

  // A method, not a comparison: the mode changes across the loop's awaits.
  private get ended(): boolean {
    return this.mode === 'ended'
  }

  private passed(event: EventEnvelope): void {
    this.next = event.position + 1
    this.lastVersion = this.streamId === undefined ? undefined : event.version
  }

  // One loop at a time (`busy`): reads of its own while `reading`, the queue while
  // `following`; it ends when the queue is empty, and the next push starts it again.
  private async run(): Promise<void> {
    this.busy = true
    try {
      for (let failures = 0; this.mode !== 'ended'; ) {
        if (this.mode === 'following') {
          const event = this.queue?.shift()
          if (!event) break
          if (event.position < this.next) continue // delivered already by a read of its own
          await this.handler(copyOf(event))
          this.passed(event)
          continue
        }
        const mark = this.tail.mark()
        let page: readonly EventEnvelope[]
        try {
          page = await this.readPage(this.next, PAGE, this.streamId, this.lastVersion)
          failures = 0
        } catch (err) {
          if (this.ended) break
          this.onRetry?.(err)
          await this.pause(sleep(Math.min(MAX_RETRY_WAIT_MS, 10 * 2 ** failures++)))
          continue
        }
        for (const event of page) {
          if (this.ended) break
          if (this.names === undefined || this.names.has(event.name)) await this.handler(event)
          this.passed(event)
        }
        if (page.length === PAGE || this.mode !== 'reading') continue
        this.mode = 'following'
        if (this.tail.join(this, mark)) continue
        // The tail is not reading yet, or moved on too far during this read: read again.
        this.mode = 'reading'
        try {
          await this.tail.start()
        } catch (err) {
          this.onRetry?.(err)
          await this.pause(sleep(Math.min(MAX_RETRY_WAIT_MS, 10 * 2 ** failures++)))
        }
      }
    } catch (err) {
      this.end()
      this.rejectDone(err)
    } finally {
      this.busy = false
    }
  }

  private async pause(wait: Wait): Promise<void> {
    this.pausing = wait
    await wait.promise
    this.pausing = undefined
  }
}
