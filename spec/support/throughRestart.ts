import { StorageError, type EventEnvelope, type NewEvent, type StorageAdapter } from 'omniscient-actors'
import { collect } from '../store/conformance.js'

/** How a restart run is driven. */
export interface RestartRun {
  readonly writer: StorageAdapter
  readonly reader: StorageAdapter
  /** Events appended to stream `s`, one per append. */
  readonly total: number
  /** Before the append of this version, `restart` runs. */
  readonly restartAt: number
  readonly restart: () => Promise<void> | void
  readonly retryDelayMs: number
  /** How long the subscriber may take to catch up once the writer is done. */
  readonly catchUpMs: number
}

/** What a restart run saw: the subscriber's events, the stored ones, and every retried failure. */
export interface RestartOutcome {
  readonly seen: EventEnvelope[]
  readonly stored: EventEnvelope[]
  readonly retried: unknown[]
}

/**
 * Appends `total` events while the server restarts, retrying each append the way a caller must
 * (a lost connection leaves its outcome unknown; sending the same batch again is safe), with a
 * subscriber reading along from position 1.
 */
export async function appendThroughRestart(run: RestartRun): Promise<RestartOutcome> {
  const retried: unknown[] = []
  const seen: EventEnvelope[] = []
  const sub = run.reader.subscribe({ fromPosition: 1, onRetry: (e) => retried.push(e) }, (e) => void seen.push(e))
  for (let v = 0; v < run.total; v++) {
    if (v === run.restartAt) await run.restart()
    const event: NewEvent = { id: `e-${v}`, name: 'n', data: { v }, schemaVersion: 1, at: v, meta: {} }
    for (let attempt = 0; ; attempt++) {
      try {
        await run.writer.append('s', [event], { expectedVersion: v })
        break
      } catch (err) {
        retried.push(err)
        if (!(err instanceof StorageError) || attempt > 100) throw err
        await new Promise((r) => setTimeout(r, run.retryDelayMs))
      }
    }
  }
  const deadline = Date.now() + run.catchUpMs
  while (seen.length < run.total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await sub.close()
  return { seen, stored: await collect(run.writer.readStream('s')), retried }
}
