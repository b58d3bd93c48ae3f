import type { EventEnvelope } from '../../envelope.js'
import type { LocalCopy } from './LocalCopy.js'

/**
 * Writes events into a RemoteStore's local copy in the order they were read. Live events are
 * gathered and kept once per turn of the event loop, a stream's events of that turn in one
 * `keep` (one transaction, one fsync on a SqliteCopy) instead of one each: the copy is a cache,
 * and a burst of live events would otherwise cost a disk flush apiece. Every other write
 * (`keep`, `flush`) first writes what was gathered, so the copy's prefix grows in read order and
 * a read of the copy sees every event delivered before it.
 */
export class CopyWriter {
  private gathered = new Map<string, EventEnvelope[]>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private tail: Promise<unknown> = Promise.resolve()

  constructor(private readonly local: LocalCopy) {}

  /** Keeps a live event with the others of this turn; a failed write is dropped (the copy is a cache). */
  later(event: EventEnvelope): void {
    const events = this.gathered.get(event.streamId)
    if (events) events.push(event)
    else this.gathered.set(event.streamId, [event])
    // A timer, not a microtask: the events parsed from one network chunk all arrive first.
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), 0)
  }

  /** Keeps events now, after everything gathered before; resolves once they are written. */
  keep(streamId: string, events: readonly EventEnvelope[]): Promise<void> {
    return this.after(() => this.local.keep(streamId, events))
  }

  /** Runs `write` after what was gathered and the writes before it (a snapshot must not get ahead of its events). */
  after<T>(write: () => Promise<T>): Promise<T> {
    this.writeGathered()
    return this.chain(write)
  }

  /** Writes what was gathered; resolves once it and every write before it is done. */
  async flush(): Promise<void> {
    this.writeGathered()
    await this.tail
  }

  private writeGathered(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const gathered = this.gathered
    this.gathered = new Map()
    for (const [streamId, events] of gathered) void this.chain(() => this.local.keep(streamId, events)).catch(() => undefined)
  }

  private chain<T>(write: () => Promise<T>): Promise<T> {
    const done = this.tail.then(write)
    this.tail = done.catch(() => undefined)
    return done
  }
}
