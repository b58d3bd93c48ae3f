/**
 * Where the framework reads time and schedules timers. The container holds one, so ticks,
 * leases and timeouts can be tested with `ManualClock` instead of sleeping.
 *
 * @example
 * const container = createContainer({ clock: new ManualClock(0) })
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): { cancel(): void }
}

/** The real clock. @example createContainer({ clock: systemClock }) */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(handle) }
  },
}

/**
 * A clock that moves only when told to. Timers fire, in order, as `advance` passes them.
 *
 * @example
 * const clock = new ManualClock(1_000)
 * clock.advance(500) // now() === 1_500
 */
export class ManualClock implements Clock {
  private timers: Array<{ at: number; seq: number; fn: () => void }> = []
  private seq = 0

  constructor(private current = 0) {}

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) }
  }

  /** Moves time forward by `ms`, running each timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!due) break
      this.timers = this.timers.filter((t) => t !== due)
      this.current = due.at
      due.fn()
    }
    this.current = target
  }
}

/**
 * Lets Node exit while this timer is pending (a no-op in browsers, whose timers are numbers).
 *
 * @example unrefTimer(setInterval(sweep, 1_000))
 */
export function unrefTimer(timer: unknown): void {
  const unref = typeof timer === 'object' && timer !== null ? (timer as { unref?: unknown }).unref : undefined
  if (typeof unref === 'function') (unref as () => void).call(timer)
}
