import type { Container } from '../Container.js'
import { ContainerClosedError, WaitForTimeoutError } from './errors.js'

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Reject with `WaitForTimeoutError` after this long. Default: wait as long as it takes. */
  readonly timeoutMs?: number
}

// Another process's commit is seen by polling the stored checkpoint this often.
const POLL_MS = 2

/**
 * The loop behind a read model's and a projection's `waitFor`: resolves once `reached()` is at
 * `position` or beyond, checking again on each wake-up (`wakes` is called on every commit of
 * this process) and every 2 ms (another process's commit). Rejects with `WaitForTimeoutError`
 * after `timeoutMs`, and with `ContainerClosedError` once the container closes (at once when
 * it closed before).
 *
 * @example
 * await waitForPosition(container, 'balances', 42, () => checkpoint, wakes, {})
 */
export async function waitForPosition(
  container: Container,
  name: string,
  position: number,
  reached: () => number | Promise<number>,
  wakes: Set<() => void>,
  options: WaitForOptions,
): Promise<void> {
  const { clock } = container
  const deadline = options.timeoutMs === undefined ? Infinity : clock.now() + options.timeoutMs
  let closed = false
  let wakeNow: (() => void) | undefined
  const unregister = container.onClose(() => {
    closed = true
    wakeNow?.()
  })
  try {
    for (;;) {
      if (closed) throw new ContainerClosedError(name, position)
      let at: number
      try {
        at = await reached()
      } catch (err) {
        // The store closed under the read: that is the container closing, not a failure of its own.
        if (closed) throw new ContainerClosedError(name, position)
        throw err
      }
      if (at >= position) return
      if (closed) throw new ContainerClosedError(name, position)
      if (clock.now() >= deadline) throw new WaitForTimeoutError(name, position, at, options.timeoutMs ?? 0)
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(done, Math.min(POLL_MS, Math.max(0, deadline - clock.now())))
        function done() {
          timer.cancel()
          wakes.delete(done)
          wakeNow = undefined
          resolve()
        }
        wakes.add(done)
        wakeNow = done
      })
    }
  } finally {
    unregister()
  }
}
