import type { EventEnvelope } from '../../envelope.js'
import { MemorySnapshots } from '../../store/memory/MemorySnapshots.js'
import type { Snapshot } from '../../store/StorageAdapter.js'
import type { LocalCopy, QueuedAppend, ServerLimits } from './LocalCopy.js'

/**
 * The default local copy of a RemoteStore: in memory, gone when the process or page ends.
 *
 * @example
 * new RemoteStore({ url, token, local: new MemoryCopy() })
 */
export class MemoryCopy implements LocalCopy {
  private readonly streams = new Map<string, EventEnvelope[]>()
  private readonly snapshots = new MemorySnapshots()
  private readonly checkpoints = new Map<string, number>()
  private readonly queue = new Map<number, QueuedAppend>()
  private nextSeq = 1
  private limits: ServerLimits | undefined

  async knownVersion(streamId: string): Promise<number> {
    return this.streams.get(streamId)?.length ?? 0
  }

  async *readStream(streamId: string, fromVersion: number, toVersion: number): AsyncIterable<EventEnvelope> {
    const held = this.streams.get(streamId) ?? []
    for (let v = Math.max(1, fromVersion); v <= Math.min(toVersion, held.length); v++) yield held[v - 1]!
  }

  async keep(streamId: string, events: readonly EventEnvelope[]): Promise<void> {
    let held = this.streams.get(streamId)
    for (const event of events) {
      if (event.version !== (held?.length ?? 0) + 1) continue
      if (!held) this.streams.set(streamId, (held = []))
      held.push(event)
    }
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshots.save(snapshot)
  }

  async loadSnapshot(actorType: string, streamId: string): Promise<Snapshot | undefined> {
    return this.snapshots.load(actorType, streamId)
  }

  /** Test hook: overwrites a snapshot with arbitrary text, as a damaged disk would. */
  corruptSnapshot(actorType: string, streamId: string, text: string): void {
    this.snapshots.corrupt(actorType, streamId, text)
  }

  async saveCheckpoint(name: string, position: number): Promise<void> {
    this.checkpoints.set(name, position)
  }

  async loadCheckpoint(name: string): Promise<number | undefined> {
    return this.checkpoints.get(name)
  }

  async enqueue(append: Omit<QueuedAppend, 'seq'>): Promise<QueuedAppend> {
    const queued = { ...append, seq: this.nextSeq++ }
    this.queue.set(queued.seq, queued)
    return queued
  }

  async dequeue(seq: number): Promise<void> {
    this.queue.delete(seq)
  }

  async queued(): Promise<QueuedAppend[]> {
    return [...this.queue.values()]
  }

  async saveLimits(limits: ServerLimits): Promise<void> {
    this.limits = limits
  }

  async loadLimits(): Promise<ServerLimits | undefined> {
    return this.limits
  }

  async close(): Promise<void> {}
}
