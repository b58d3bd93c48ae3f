import type { EventEnvelope } from '../envelope.js'
import { OmniscientError } from '../errors.js'
import { sleep, type SubscribeOptions, type Subscription, type SubscriptionHandler, type Wait } from '../store/Subscription.js'
import { SyncUnavailableError } from './errors.js'
import type { Deadline } from './Deadline.js'
import type { HttpClient } from './HttpClient.js'
import { lines, parseWireJson, paths, SSE, toEnvelope } from './protocol.js'

/** How long a live feed may stay silent (no event, no heartbeat) before it is taken for a dead link. */
export const DEFAULT_LIVE_SILENCE_MS = 35_000

/** Hooks a live subscription reports to: the RemoteStore's status and local copy. */
export interface LiveHooks {
  connected(up: boolean): void
  delivered(event: EventEnvelope): void
  /** The wait before reconnecting after `failures` failures in a row. */
  backoff(failures: number): number
  /** Resolves when the server being unreachable is worth waiting out; rejects to end the subscription with that error. */
  unavailable?(err: unknown): Promise<void>
}

/**
 * A subscription over the sync protocol's Server-Sent Events feed, read with `fetch` (so the
 * token travels in a header, and the same code runs in Node and browsers). When the connection
 * drops it reconnects with backoff from the position after the last event its handler took,
 * so nothing is skipped or delivered twice. A refusal (401, 403, 4xx) ends it with that error.
 */
export function liveSubscription(http: HttpClient, options: SubscribeOptions, handler: SubscriptionHandler, hooks: LiveHooks, silenceMs = DEFAULT_LIVE_SILENCE_MS): Subscription {
  let nextPosition = Math.max(1, options.fromPosition ?? 1)
  let closed = false
  let abort: AbortController | undefined
  let pause: Wait | undefined
  // Failed attempts in a row: the backoff grows with them and starts afresh once one connects.
  let failures = 0

  async function connectOnce(): Promise<void> {
    abort = new AbortController()
    // The answer's headers within callTimeoutMs; then a line (an event, or the server's
    // heartbeat comment) at least every silenceMs, or the feed is taken for a silent link.
    const deadline = http.deadline('GET', paths.live(), false, abort.signal)
    try {
      await follow(deadline)
    } catch (err) {
      throw deadline.expired ?? err
    } finally {
      deadline.clear()
    }
  }

  async function follow(deadline: Deadline): Promise<void> {
    const response = await http.request(paths.live(), {
      signal: abort!.signal,
      deadline,
      headers: { Accept: SSE, 'Last-Event-ID': String(nextPosition - 1) },
      // `name=` once for each name, taken whole by the server: `names=` would split one holding a comma.
      query: { fromPosition: nextPosition, streamId: options.streamId, name: options.names },
    })
    if (!response.body) throw new SyncUnavailableError(http.urlOf(paths.live()), new Error('no body'))
    await http.expectType(response, SSE, http.urlOf(paths.live()))
    hooks.connected(true)
    failures = 0
    let data: string | undefined
    deadline.reset(silenceMs, 'liveSilenceMs')
    for await (const line of lines(response.body)) {
      // The wait for the next line is what is bounded, not the handler's work.
      deadline.clear()
      if (closed) return
      if (line === '') {
        if (data !== undefined) {
          const event = toEnvelope(parseWireJson(data))
          data = undefined
          // A handler failure ends the subscription: it is not a connection problem.
          try {
            await handler(event)
          } catch (err) {
            throw new HandlerFailed(err)
          }
          nextPosition = event.position + 1
          hooks.delivered(event)
        }
      } else if (line.startsWith('data:')) {
        const part = line.slice(line.charAt(5) === ' ' ? 6 : 5)
        data = data === undefined ? part : `${data}\n${part}`
      }
      // `id:`, `retry:` and comments need nothing: the position is in the event itself.
      deadline.reset(silenceMs, 'liveSilenceMs')
    }
    if (!closed) throw new SyncUnavailableError(http.urlOf(paths.live()), new Error('the live feed ended'))
  }

  async function run(): Promise<void> {
    while (!closed) {
      try {
        await connectOnce()
      } catch (caught) {
        if (closed) return
        if (caught instanceof HandlerFailed) throw caught.cause
        if (caught instanceof OmniscientError && !(caught instanceof SyncUnavailableError) && !isRetryable(caught)) throw caught
        // A feed cut mid-stream (a server restart) fails with the network library's own error: said as a sync error, kept as cause.
        const err = caught instanceof OmniscientError ? caught : new SyncUnavailableError(http.urlOf(paths.live()), caught)
        if (err instanceof SyncUnavailableError) await hooks.unavailable?.(err)
        hooks.connected(false)
        options.onRetry?.(err)
        pause = sleep(hooks.backoff(failures++))
        await pause.promise
        pause = undefined
      }
    }
  }

  const done = run()
  done.catch(() => undefined)
  return {
    get nextPosition() {
      return nextPosition
    },
    done,
    async close() {
      closed = true
      abort?.abort()
      pause?.cancel()
      await done.catch(() => undefined)
    },
  }
}

class HandlerFailed extends Error {
  constructor(cause: unknown) {
    super('the subscription handler failed', { cause })
  }
}

function isRetryable(err: OmniscientError): boolean {
  return err.code === 'TOO_MANY_CONNECTIONS' || err.code === 'STORAGE' || err.code === 'BAD_RESPONSE'
}
