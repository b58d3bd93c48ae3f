import type { Container } from '../Container.js'
import { ContainerClosedError, WaitForTimeoutError } from './errors.js'

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Reject with `WaitForTimeoutError` after this long. Default: wait as long as it takes. */
  readonly timeoutMs?: number
}

// Another process's commit is seen by polling the stored position: every 2 ms for the first
// 20 ms (a live commit lands within them), then, while it does not move, at a quarter of the
// time it has not moved (so the poll adds at most about a quarter to a long wait), up to
// every 50 ms.
const FIRST_POLL_MS = 2
const FAST_FOR_MS = 20
const MAX_POLL_MS = 50

interface Waiter {
  readonly position: number
  readonly timeoutMs: number | undefined
  resolve(): void
  reject(err: unknown): void
  timer?: { cancel(): void }
  // The deadline passed while a read was in flight: that read decides.
  expired?: boolean
}

/**
 * The pending `waitFor` calls of one read model or projection in this process, served by one
 * poll: however many wait, one read of the position is in flight at a time. A waiter resolves
 * once `reached()` is at its position or beyond. The poll runs only while someone waits, at
 * once when a waiter comes or this process commits (`changed()`), and backs off while the
 * position does not move. Rejects with `WaitForTimeoutError` after `timeoutMs`, and with
 * `ContainerClosedError` once the container closes (at once when it closed before).
 *
 * @example
 * const watch = new PositionWatch(container, 'balances', () => checkpoint)
 * await watch.wait(42, { timeoutMs: 1_000 })   // and watch.changed() after each commit
 */
export class PositionWatch {
  private readonly waiters = new Set<Waiter>()
  // The highest position seen reached: positions only grow, so it answers without a read.
  private known = 0
  private quietSince = 0
  private reading = false
  private again = false
  private timer: { cancel(): void } | undefined
  private closed = false
  private unregisterClose: (() => void) | undefined

  constructor(
    private readonly container: Container,
    private readonly name: string,
    private readonly reached: () => number | Promise<number>,
  ) {}

  /** Resolves once `position` is reached (see the class). */
  wait(position: number, options: WaitForOptions = {}): Promise<void> {
    // Registered while someone waits; on a closed container the hook runs at once, here.
    this.unregisterClose ??= this.container.onClose(() => this.close())
    if (this.closed) return Promise.reject(new ContainerClosedError(this.name, position))
    if (position <= this.known) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { position, timeoutMs: options.timeoutMs, resolve, reject }
      this.waiters.add(waiter)
      if (options.timeoutMs !== undefined) waiter.timer = this.container.clock.setTimeout(() => this.expire(waiter), options.timeoutMs)
      // A new waiter is news: something was just written, or it would not wait.
      this.quietSince = this.container.clock.now()
      this.poll()
    })
  }

  /** This process committed: check at once. */
  changed(): void {
    if (this.waiters.size === 0) return
    this.quietSince = this.container.clock.now()
    if (this.reading) this.again = true
    else this.poll()
  }

  private poll(): void {
    if (this.reading || this.waiters.size === 0) return
    this.timer?.cancel()
    this.timer = undefined
    this.reading = true
    this.again = false
    void this.read()
  }

  private async read(): Promise<void> {
    let at: number
    try {
      at = await this.reached()
    } catch (err) {
      this.reading = false
      // Closed under the read: the close rejected every waiter already.
      if (!this.closed) for (const waiter of [...this.waiters]) this.settle(waiter, { error: err })
      return
    }
    this.reading = false
    if (at > this.known) {
      this.known = at
      this.quietSince = this.container.clock.now()
    }
    for (const waiter of [...this.waiters]) {
      if (waiter.position <= this.known) this.settle(waiter)
      else if (waiter.expired) this.settle(waiter, { error: this.timeout(waiter) })
    }
    if (this.again) this.poll()
    else this.schedule()
  }

  private schedule(): void {
    if (this.reading || this.waiters.size === 0 || this.closed) return
    const { clock } = this.container
    const quiet = clock.now() - this.quietSince
    const delay = quiet < FAST_FOR_MS ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, Math.max(FIRST_POLL_MS, quiet / 4))
    this.timer?.cancel()
    this.timer = clock.setTimeout(() => {
      this.timer = undefined
      this.poll()
    }, delay)
  }

  private expire(waiter: Waiter): void {
    if (this.reading) waiter.expired = true
    else this.settle(waiter, { error: this.timeout(waiter) })
  }

  private timeout(waiter: Waiter): WaitForTimeoutError {
    return new WaitForTimeoutError(this.name, waiter.position, this.known, waiter.timeoutMs ?? 0)
  }

  /** Resolves the waiter, or rejects it with `failed.error`. */
  private settle(waiter: Waiter, failed?: { error: unknown }): void {
    if (!this.waiters.delete(waiter)) return
    waiter.timer?.cancel()
    if (failed) waiter.reject(failed.error)
    else waiter.resolve()
    if (this.waiters.size === 0) {
      this.timer?.cancel()
      this.timer = undefined
      this.unregisterClose?.()
      this.unregisterClose = undefined
    }
  }

  private close(): void {
    this.closed = true
    for (const waiter of [...this.waiters]) this.settle(waiter, { error: new ContainerClosedError(this.name, waiter.position) })
  }
}
