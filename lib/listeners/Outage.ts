import type { EventEnvelope } from '../envelope.js'
import { OutageError } from '../errors.js'

/** What a follower or listener that keeps failing says of itself, while it retries. */
export interface StuckStatus {
  /** What keeps failing, as in the error report's `where`. */
  readonly where: string
  /** The last failure (an `EventDecodeError` for a damaged row, a `StorageError` for a lost store...). */
  readonly error: unknown
  /** Failed attempts in a row so far. */
  readonly failures: number
  /** When the first of them failed (ms since the epoch). */
  readonly since: number
}

/**
 * A run of failures of something retried on its own (a subscription's reads, a listener's
 * handler, a reload). The first failure is reported at once, so nothing fails in silence; the
 * others are counted, and the end of the run is reported once with the count (`OutageError`),
 * so an endless retry neither floods the report nor goes unseen.
 */
export class Outage {
  private run: { error: unknown; failures: number; since: number } | undefined

  constructor(
    private readonly where: string,
    private readonly report: (err: unknown, event: EventEnvelope | undefined) => void,
  ) {}

  /** The run under way, or undefined when the last attempt succeeded. */
  get status(): StuckStatus | undefined {
    const run = this.run
    return run && { where: this.where, error: run.error, failures: run.failures, since: run.since }
  }

  /** One more failed attempt; reported only when it begins a run. */
  fail(err: unknown, event?: EventEnvelope): void {
    if (this.run) {
      this.run.error = err
      this.run.failures++
      return
    }
    this.run = { error: err, failures: 1, since: Date.now() }
    this.report(err, event)
  }

  /** An attempt succeeded: a run of more than one failure is reported with its count. */
  end(): void {
    const run = this.run
    if (!run) return
    this.run = undefined
    if (run.failures > 1) this.report(new OutageError(this.where, run.failures, Date.now() - run.since, run.error), undefined)
  }
}
