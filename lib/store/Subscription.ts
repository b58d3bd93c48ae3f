import type { EventEnvelope } from '../envelope.js'

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** Deliver events whose position is at least this one (default 1: from the beginning). */
  readonly fromPosition?: number
  /** Only this stream's events. */
  readonly streamId?: string
  /** Only events with one of these names. */
  readonly names?: readonly string[]
  /** Told about read failures that the subscription retries (a busy or lost database). */
  readonly onRetry?: (err: unknown) => void
}

/** Receives each event; the next one is delivered only after the returned promise settles. */
export type SubscriptionHandler = (event: EventEnvelope) => void | Promise<void>

/**
 * A running subscription: catch-up from the log, then live, one event at a time.
 *
 * @example
 * const sub = store.subscribe({ fromPosition: 1 }, async (e) => project(e))
 * await sub.close()
 */
export interface Subscription {
  /**
   * Stops delivering; resolves once no handler runs any more. A handler closing its own
   * subscription calls it without `await` (it would wait for that handler).
   */
  close(): Promise<void>
  /** Settles when the subscription ends: resolves on close, rejects with a handler's error. */
  readonly done: Promise<void>
  /** The position the next delivered event will have at least (last delivered + 1). */
  readonly nextPosition: number
}

/**
 * A read of at most `limit` events from `fromPosition` on, in position order: every stream's,
 * or one stream's. `afterVersion`, given only with a `streamId`, is the version of that
 * stream's event at `fromPosition - 1`: the read may continue by version instead (the same
 * events, found through the stream's own index).
 */
export type ReadPage = (
  fromPosition: number,
  limit: number,
  streamId: string | undefined,
  afterVersion?: number,
) => Promise<readonly EventEnvelope[]> | readonly EventEnvelope[]

/** A wait that can be cut short. */
export interface Wait {
  readonly promise: Promise<void>
  cancel(): void
}

/**
 * Tells a store's reader when new events may have been committed. `mark()` is taken before
 * each read, and `wait` returns at once if a commit was signalled since: no wake-up is lost
 * while the read's events are handed on.
 */
export interface CommitWaiter {
  mark(): number
  wait(maxWaitMs: number, since: number): Wait
}

/** A plain timer as a cancellable wait. */
export function sleep(ms: number): Wait {
  let cancel = () => {}
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    cancel = () => {
      clearTimeout(timer)
      resolve()
    }
  })
  return { promise, cancel }
}
