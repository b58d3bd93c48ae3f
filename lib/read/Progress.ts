import type { EventEnvelope } from '../envelope.js'

/** Where a runner is: its state, how far it has applied, and how fast. */
export interface Progress {
  /** The read model or projection name. */
  readonly name: string
  /**
   * `standby`: another process runs it (or none has started it here); `catching-up`: applying
   * the past; `live`: caught up, following new events; `building`: a new version being built
   * beside the active one; `stuck`: a handler keeps failing on `stuck.event`; `superseded`:
   * a newer version is active, this code does not run; `stopped`.
   */
  readonly state: 'standby' | 'catching-up' | 'live' | 'building' | 'stuck' | 'superseded' | 'stopped'
  /** The position of the last event applied (and committed). */
  readonly position: number
  /** The store's highest position, sampled at most every half second while catching up. */
  readonly head: number
  /** Events applied per second, over the last few seconds. */
  readonly eventsPerSecond: number
  /** Set while a handler fails: the event, the last error and how many attempts so far. */
  readonly stuck?: { readonly event: EventEnvelope; readonly error: unknown; readonly attempts: number }
}

/** Receives each change of progress. */
export type ProgressListener = (progress: Progress) => void

const WINDOW_MS = 3_000

/** Events per second over a sliding window of a few seconds. */
export class RateMeter {
  private readonly samples: Array<{ at: number; count: number }> = []

  add(count: number, now: number): void {
    this.samples.push({ at: now, count })
    while (this.samples.length > 1 && this.samples[0]!.at < now - WINDOW_MS) this.samples.shift()
  }

  perSecond(now: number): number {
    const first = this.samples[0]
    if (!first) return 0
    const span = Math.max(now - first.at, 1)
    const total = this.samples.reduce((sum, s) => sum + s.count, 0)
    return span < 50 ? 0 : Math.round((total * 1000) / span)
  }
}
