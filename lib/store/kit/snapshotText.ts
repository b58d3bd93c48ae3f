import { SnapshotCorruptError } from '../../errors.js'
import { parseStoredJson } from '../../safeData.js'
import type { Snapshot } from '../StorageAdapter.js'

/**
 * A snapshot kept whole as JSON text (MemoryStore, and a RemoteStore's local copies), read
 * back; text that is not JSON is a `SnapshotCorruptError`, as on every store.
 */
export function parseSnapshotText(text: string, actorType: string, streamId: string): Snapshot {
  try {
    return parseStoredJson(text) as Snapshot
  } catch (err) {
    throw new SnapshotCorruptError(actorType, streamId, err)
  }
}
