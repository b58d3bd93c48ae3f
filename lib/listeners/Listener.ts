import type { EventEnvelope } from '../envelope.js'
import type { StorageAdapter } from '../store/StorageAdapter.js'
import { sleep, type Subscription, type Wait } from '../store/Subscription.js'

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
}

export type ListenHandler = (event: EventEnvelope) => void | Promise<void>

const MAX_RETRY_MS = 5_000

/**
 * Starts a listener: a subscription that hands each event to `handler`, retries an event whose
 * handler failed (reporting each failure) until it succeeds, and for a durable listener stores
 * the checkpoint once the handler succeeded.
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

  async function handleUntilDone(event: EventEnvelope): Promise<void> {
    for (let failures = 0; !closed; failures++) {
      try {
        await handler(event)
        if (options.durable !== undefined) await store.saveCheckpoint(options.durable, event.position)
        return
      } catch (err) {
        report(err, event)
        pause = sleep(Math.min(MAX_RETRY_MS, 10 * 2 ** failures))
        await pause.promise
        pause = undefined
      }
    }
  }

  const started = (async () => {
    const checkpoint = options.durable === undefined ? undefined : await store.loadCheckpoint(options.durable)
    const from = options.from ?? (options.durable === undefined ? 'now' : 'start')
    const fromPosition = checkpoint !== undefined ? checkpoint + 1 : from === 'start' ? 1 : (await store.headPosition()) + 1
    if (closed) return
    subscription = store.subscribe({ ...filter, fromPosition }, handleUntilDone)
  })()
  started.catch((err: unknown) => report(err, undefined))

  return {
    async close() {
      closed = true
      pause?.cancel()
      await started.catch(() => undefined)
      await subscription?.close()
    },
  }
}
