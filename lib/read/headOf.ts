import type { StorageAdapter } from '../store/StorageAdapter.js'

/**
 * The position a runner has caught up at: the store's head, or, for a model or projection of
 * one stream, the position of that stream's last event (the head may belong to another
 * stream, which such a runner never receives).
 */
export async function headOf(store: StorageAdapter, streamId: string | undefined): Promise<number> {
  if (streamId === undefined) return store.headPosition()
  const version = await store.streamVersion(streamId)
  if (version === 0) return 0
  for await (const event of store.readStream(streamId, { fromVersion: version, toVersion: version })) return event.position
  return 0
}
