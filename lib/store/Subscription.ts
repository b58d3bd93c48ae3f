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
  /** Stops delivering; resolves once no handler runs any more. */
  close(): Promise<void>
  /** Settles when the subscription ends: resolves on close, rejects with a handler's error. */
  readonly done: Promise<void>
  /** The position the next delivered event will have at least (last delivered + 1). */
  readonly nextPosition: number
}

/** A read of at most `limit` events from `fromPosition` on, in position order, matching the filter. */
export type ReadPage = (fromPosition: number, limit: number, streamId: string | undefined) => Promise<readonly EventEnvelope[]> | readonly EventEnvelope[]

/** A wait that can be cut short. */
export interface Wait {
  readonly promise: Promise<void>
  cancel(): void
}

/**
 * Tells a subscription when new events may have been committed. `mark()` is taken before each
 * read, and `wait` returns at once if a commit was signalled since: no wake-up is lost while
 * the handler runs.
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

const PAGE = 512
const MAX_IDLE_WAIT_MS = 1_000
const MAX_RETRY_WAIT_MS = 2_000

/**
 * The one subscription loop every adapter uses. Catch-up and live delivery are the same
 * mechanism: read the next page by position from the store, deliver it, and when a page
 * comes back short, wait for a commit signal. Because events always come from the store in
 * position order, there is no seam to get wrong: no gap, no duplicate, per-stream order by
 * version. Memory stays bounded by one page, however slow the handler.
 */
export function startSubscription(options: SubscribeOptions, handler: SubscriptionHandler, readPage: ReadPage, commits: CommitWaiter): Subscription {
  let nextPosition = Math.max(1, options.fromPosition ?? 1)
  let closed = false
  let current: Wait | undefined
  const names = options.names ? new Set(options.names) : undefined

  async function pause(wait: Wait): Promise<void> {
    current = wait
    await wait.promise
    current = undefined
  }

  async function run(): Promise<void> {
    let failures = 0
    while (!closed) {
      let page: readonly EventEnvelope[]
      const mark = commits.mark()
      try {
        page = await readPage(nextPosition, PAGE, options.streamId)
        failures = 0
      } catch (err) {
        if (closed) return
        options.onRetry?.(err)
        await pause(sleep(Math.min(MAX_RETRY_WAIT_MS, 10 * 2 ** failures++)))
        continue
      }
      for (const event of page) {
        if (closed) return
        if (!names || names.has(event.name)) await handler(event)
        nextPosition = event.position + 1
      }
      if (page.length < PAGE && !closed) await pause(commits.wait(MAX_IDLE_WAIT_MS, mark))
    }
  }

  const done = run()
  // Whoever cares awaits `done`; this only keeps an unobserved failure from crashing Node.
  done.catch(() => undefined)
  return {
    get nextPosition() {
      return nextPosition
    },
    done,
    async close() {
      closed = true
      current?.cancel()
      await done.catch(() => undefined)
    },
  }
}
