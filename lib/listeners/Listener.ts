import type { EventEnvelope } from '../envelope.js'
import type { StorageAdapter } from '../store/StorageAdapter.js'
import { sleep, type Subscription, type Wait } from '../store/Subscription.js'
import { traceReaction } from '../telemetry/spans.js'
import { Outage, type StuckStatus } from './Outage.js'

/** What a listener hears: one stream, some event names (on every stream), or both. */
export type ListenTarget = string | { readonly streamId?: string; readonly names?: readonly string[] }

/** Options of a listener. */
export interface ListenOptions {
  /**
   * A durable listener stores a checkpoint under this name after each event it handled, and
   * after a restart resumes right after it: nothing committed while it was down is missed.
   * Delivery is at-least-once (an event handled just before a crash, whose checkpoint was not
   * yet stored, comes again): make handlers idempotent, e.g. with `Fire(..., { causedBy })`.
   */
  readonly durable?: string
  /**
   * Where a listener with no checkpoint starts: `'start'` (the whole history) or `'now'`.
   * Default: `'start'` for a durable listener, `'now'` otherwise.
   */
  readonly from?: 'start' | 'now'
}

/** A running listener. */
export interface Listener {
  /** Stops after the event being handled, if any. */
  close(): Promise<void>
  /**
   * Set while the listener keeps failing: its handler throws, or its reads do (a damaged
   * event row, a lost store). Undefined again once an event is handled or a read succeeds.
   */
  readonly stuck: StuckStatus | undefined
}

export type ListenHandler = (event: EventEnvelope) => void | Promise<void>

const MAX_RETRY_MS = 5_000
// How many events a probe reads to tell that the store answers again; see probe().
const PROBE_EVENTS = 512

/**
 * Starts a listener: a subscription that hands each event to `handler`, retries an event whose
 * handler failed until it succeeds, and for a durable listener stores the checkpoint once the
 * handler succeeded. A run of failures (of the handler, or of the reads: a damaged row, a lost
 * store) is reported when it begins and, with its count, when it ends; meanwhile `stuck` says so.
 *
 * @example
 * const listener = startListener(store, 'order-1', { durable: 'mailer' }, sendMail, (err) => console.error(err))
 * if (listener.stuck) console.warn(listener.stuck.error)
 */
export function startListener(
  store: StorageAdapter,
  target: ListenTarget,
  options: ListenOptions,
  handler: ListenHandler,
  report: (err: unknown, event: EventEnvelope | undefined) => void,
): Listener {
  const filter = typeof target === 'string' ? { streamId: target } : target
  let subscription: Subscription | undefined
  let closed = false
  let pause: Wait | undefined
  const consumer = options.durable ?? describe(target)
  const outage = new Outage(`listener on ${describe(target)}${options.durable === undefined ? '' : ` (durable "${options.durable}")`}`, report)
  let probing: Wait | undefined

  async function handleUntilDone(event: EventEnvelope): Promise<void> {
    // Reads work again: the event came from one.
    probing?.cancel()
    for (let failures = 0; !closed; failures++) {
      try {
        // Inside a span continuing the event's trace when an OpenTelemetry SDK is registered.
        await (traceReaction(event, consumer, handler) ?? handler(event))
        if (options.durable !== undefined) await store.saveCheckpoint(options.durable, event.position)
        outage.end()
        return
      } catch (err) {
        outage.fail(err, event)
        pause = sleep(Math.min(MAX_RETRY_MS, 10 * 2 ** failures))
        await pause.promise
        pause = undefined
      }
    }
  }

  // The subscription retries failed reads on its own but says nothing when one succeeds, and
  // a healed store with nothing new to deliver would leave the listener looking stuck. So,
  // while reads fail, the listener reads the same place itself now and then; when that read
  // succeeds, so does the subscription's next one.
  function readFailed(err: unknown): void {
    outage.fail(err)
    if (probing || closed) return
    void (async () => {
      for (let attempt = 0; outage.status && !closed; attempt++) {
        probing = sleep(Math.min(MAX_RETRY_MS, 200 * 2 ** attempt))
        await probing.promise
        if (closed || !outage.status || !subscription) break
        if (await probe(subscription.nextPosition)) outage.end()
      }
      probing = undefined
    })()
  }

  async function probe(fromPosition: number): Promise<boolean> {
    try {
      let read = 0
      for await (const event of store.readAll({ fromPosition })) {
        void event
        if (++read >= PROBE_EVENTS) break
      }
      return true
    } catch {
      return false
    }
  }

  // Where to start needs the store too (the checkpoint, or the head): a store failing then is
  // retried like any read, or the listener would never start (a new leader's proposals, say,
  // left unhandled for good because the store failed as it took over).
  const started = (async () => {
    for (let failures = 0; !closed; failures++) {
      try {
        const checkpoint = options.durable === undefined ? undefined : await store.loadCheckpoint(options.durable)
        const from = options.from ?? (options.durable === undefined ? 'now' : 'start')
        const fromPosition = checkpoint !== undefined ? checkpoint + 1 : from === 'start' ? 1 : (await store.headPosition()) + 1
        if (closed) return
        subscription = store.subscribe({ ...filter, fromPosition, onRetry: readFailed }, handleUntilDone)
        outage.end()
        return
      } catch (err) {
        outage.fail(err)
        pause = sleep(Math.min(MAX_RETRY_MS, 10 * 2 ** failures))
        await pause.promise
        pause = undefined
      }
    }
  })()

  return {
    get stuck() {
      return outage.status
    },
    async close() {
      closed = true
      pause?.cancel()
      probing?.cancel()
      await started.catch(() => undefined)
      await subscription?.close()
    },
  }
}

function describe(target: ListenTarget): string {
  if (typeof target === 'string') return `"${target}"`
  const parts = [target.streamId === undefined ? '' : `"${target.streamId}"`, target.names ? `names ${target.names.join(', ')}` : '']
  return parts.filter(Boolean).join(', ') || 'every stream'
}
