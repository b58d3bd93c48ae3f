import { parseSnapshotText } from '../kit/snapshotText.js'
import type { Snapshot } from '../StorageAdapter.js'

/**
 * Snapshots kept in memory as JSON text, as a real engine keeps them (a load is a fresh copy),
 * for MemoryStore and the sync MemoryCopy.
 */
export class MemorySnapshots {
  private readonly texts = new Map<string, string>()

  save(snapshot: Snapshot): void {
    this.texts.set(key(snapshot.actorType, snapshot.streamId), JSON.stringify(snapshot))
  }

  load(actorType: string, streamId: string): Snapshot | undefined {
    const text = this.texts.get(key(actorType, streamId))
    return text === undefined ? undefined : parseSnapshotText(text, actorType, streamId)
  }

  /** Test hook: overwrites a snapshot with arbitrary text, as a damaged disk would. */
  corrupt(actorType: string, streamId: string, text: string): void {
    this.texts.set(key(actorType, streamId), text)
  }
}

function key(actorType: string, streamId: string): string {
  return JSON.stringify([actorType, streamId])
}
