import type { EventEnvelope } from '../../envelope.js'
import { sleep, type CommitWaiter, type ReadPage, type SubscribeOptions, type Subscription, type SubscriptionHandler, type Wait } from '../Subscription.js'
import { TailSubscription, type FollowedTail } from './TailSubscription.js'

/** What a store gives its shared tail. */
export interface TailSource {
  /** Reads by position (the tail reads every stream's; a catching-up subscription its own). */
  readonly readPage: ReadPage
  /** The highest committed position: where a tail that starts following begins. */
  readonly headPosition: () => Promise<number>
  /** Wakes the tail when something may have been committed, here or by another process. */
  readonly commits: CommitWaiter
}

/** Where the tail stood when a subscription began a read of its own: the seam it may join at. */
export interface TailMark {
  readonly epoch: number
  readonly next: number
}

const PAGE = 512
// Events the tail keeps after handing them on, so that a subscription whose own read raced
// the tail can still join without reading again. Fewer than a subscriber's buffer holds.
const RECENT = 512
const MAX_IDLE_WAIT_MS = 1_000
const MAX_RETRY_WAIT_MS = 2_000

// Most keys (a stream id, an event name) have one subscriber: it is kept without a Set.
type Members = TailSubscription | Set<TailSubscription>

function addMember(index: Map<string, Members>, key: string, sub: TailSubscription): void {
  const found = index.get(key)
  if (found === undefined) index.set(key, sub)
  else if (found instanceof Set) found.add(sub)
  else if (found !== sub) index.set(key, new Set([found, sub]))
}

function removeMember(index: Map<string, Members>, key: string, sub: TailSubscription): void {
  const found = index.get(key)
  if (found === sub) index.delete(key)
  else if (found instanceof Set) {
    found.delete(sub)
    if (found.size === 1) index.set(key, found.values().next().value!)
  }
}

/**
 * One reader per store and process that follows the log by position and hands each event to
 * the subscriptions that want it, found through indexes (by stream, by event name, or all), so
 * a commit costs work in proportion to its events and to their subscribers, not to every
 * subscriber of the store.
 *
 * A subscription first reads on its own from its position (catch-up), then joins the tail at
 * a seam that leaves no gap and no duplicate: before each read of its own it takes a mark (the
 * tail's next position); every position below the mark was visible before that read began,
 * because positions become visible in increasing order (docs/consistency.md), so the read saw
 * all of them. On joining it is handed what the tail passed on since the mark, and from then
 * on everything the tail reads; events below the position it already reached are skipped.
 * A subscriber whose handler falls behind has a bounded buffer; when it overflows, the
 * subscriber leaves the tail, reads on its own from where its handler got to, and joins again.
 *
 * The tail reads only while the store has subscriptions, from the head at the time it starts.
 *
 * @example
 * const tail = new SharedTail({ readPage, headPosition: () => store.headPosition(), commits })
 * const sub = tail.subscribe({ streamId: 'cart-42' }, (event) => apply(event))
 */
export class SharedTail implements FollowedTail<TailMark> {
  private readonly byStream = new Map<string, Members>()
  private readonly byName = new Map<string, Members>()
  private readonly everything = new Set<TailSubscription>()
  private readonly open = new Set<TailSubscription>()
  private active = false
  private epoch = 0
  private next = 1
  private recent: EventEnvelope[] = []
  private recentFrom = 1
  private starting: Promise<void> | undefined
  private waiting: Wait | undefined
  private closed = false

  constructor(private readonly source: TailSource) {}

  /** Starts a subscription: catch-up on its own, then live through the tail. */
  subscribe(options: SubscribeOptions, handler: SubscriptionHandler): Subscription {
    const sub = new TailSubscription(this, this.source.readPage, options, handler)
    this.open.add(sub)
    return sub
  }

  /** How many subscriptions are running (catching up or following). */
  get size(): number {
    return this.open.size
  }

  /** Ends every subscription (each resolves `done`) and stops reading. */
  async close(): Promise<void> {
    this.closed = true
    this.active = false
    this.waiting?.cancel()
    await Promise.all([...this.open].map((sub) => sub.close()))
  }

  /** @internal Taken by a subscription before a read of its own. */
  mark(): TailMark | undefined {
    return this.active ? { epoch: this.epoch, next: this.next } : undefined
  }

  /**
   * @internal Adds `sub` to the tail if its read, begun at `mark`, reached where the tail is:
   * it is then handed what the tail passed on since the mark. False when it must read again.
   */
  join(sub: TailSubscription, mark: TailMark | undefined): boolean {
    if (!mark || !this.active || mark.epoch !== this.epoch || mark.next < this.recentFrom) return false
    if (sub.streamId !== undefined) addMember(this.byStream, sub.streamId, sub)
    else if (sub.names) for (const name of sub.names) addMember(this.byName, name, sub)
    else this.everything.add(sub)
    const recent = this.recent
    for (let i = firstAtOrAfter(recent, mark.next); i < recent.length; i++) {
      const event = recent[i]!
      if (sub.wants(event)) sub.push(event)
    }
    return true
  }

  /** @internal `sub` stops following (closed, failed, or fallen behind). */
  leave(sub: TailSubscription): void {
    if (sub.streamId !== undefined) removeMember(this.byStream, sub.streamId, sub)
    else if (sub.names) for (const name of sub.names) removeMember(this.byName, name, sub)
    else this.everything.delete(sub)
  }

  /** @internal `sub` has ended. */
  forget(sub: TailSubscription): void {
    this.open.delete(sub)
    // Nobody left: cut the wait short, so the tail stops (and a poll with it).
    if (this.open.size === 0) this.waiting?.cancel()
  }

  /** @internal Starts reading from the head, unless the tail reads already. */
  start(): Promise<void> {
    if (this.active || this.closed) return Promise.resolve()
    this.starting ??= (async () => {
      try {
        const head = await this.source.headPosition()
        if (this.closed || this.active) return
        this.epoch++
        this.next = head + 1
        this.recent = []
        this.recentFrom = this.next
        this.active = true
        void this.follow(this.epoch)
      } finally {
        this.starting = undefined
      }
    })()
    return this.starting
  }

  private async follow(epoch: number): Promise<void> {
    let failures = 0
    while (this.active && this.epoch === epoch) {
      // It reads while any subscription runs: one catching up will join soon.
      if (this.open.size === 0) {
        this.active = false
        this.recent = []
        return
      }
      const mark = this.source.commits.mark()
      let page: readonly EventEnvelope[]
      try {
        page = await this.source.readPage(this.next, PAGE, undefined)
        failures = 0
      } catch (err) {
        if (!this.active || this.epoch !== epoch) return
        for (const sub of this.open) sub.retrying(err)
        await this.pause(sleep(Math.min(MAX_RETRY_WAIT_MS, 10 * 2 ** failures++)))
        continue
      }
      if (!this.active || this.epoch !== epoch) return
      for (const event of page) this.dispatch(event)
      // A full page: let subscribers whose handlers settle at once work through it first.
      if (page.length === PAGE) await new Promise((resolve) => setTimeout(resolve, 0))
      else if (this.open.size > 0) await this.pause(this.source.commits.wait(MAX_IDLE_WAIT_MS, mark))
    }
  }

  private async pause(wait: Wait): Promise<void> {
    this.waiting = wait
    await wait.promise
    this.waiting = undefined
  }

  private dispatch(event: EventEnvelope): void {
    this.next = event.position + 1
    const recent = this.recent
    recent.push(event)
    if (recent.length >= 2 * RECENT) {
      this.recentFrom = recent[recent.length - RECENT - 1]!.position + 1
      this.recent = recent.slice(recent.length - RECENT)
    }
    const stream = this.byStream.get(event.streamId)
    if (stream instanceof Set) {
      for (const sub of stream) if (sub.wants(event)) sub.push(event)
    } else if (stream && stream.wants(event)) stream.push(event)
    const named = this.byName.get(event.name)
    if (named instanceof Set) for (const sub of named) sub.push(event)
    else named?.push(event)
    for (const sub of this.everything) sub.push(event)
  }
}

/** The index of the first item at or after `position`, in items sorted by position. */
export function firstAtOrAfter(items: ReadonlyArray<{ readonly position: number }>, position: number): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (items[mid]!.position < position) lo = mid + 1
    else hi = mid
  }
  return lo
}
