import type { StorageAdapter } from '../../store/StorageAdapter.js'

/**
 * The first version of `streamId` whose position is at or after `fromPosition` (the stream's
 * version + 1 when there is none). Positions grow with versions inside a stream, so a binary
 * search of single-event reads finds it: about log2(version) rows touched, where a filtered
 * read of the whole log would touch every row after `fromPosition`.
 *
 * @example await firstVersionFrom(store, 'player-1', 1_000) // 1 + the events of player-1 before position 1,000
 */
export async function firstVersionFrom(store: StorageAdapter, streamId: string, fromPosition: number): Promise<number> {
  if (fromPosition <= 1) return 1
  let low = 1
  let high = (await store.streamVersion(streamId)) + 1
  while (low < high) {
    const middle = Math.floor((low + high) / 2)
    if ((await positionOf(store, streamId, middle)) >= fromPosition) high = middle
    else low = middle + 1
  }
  return low
}

async function positionOf(store: StorageAdapter, streamId: string, version: number): Promise<number> {
  for await (const event of store.readStream(streamId, { fromVersion: version, toVersion: version })) return event.position
  // A version below the stream's always exists; were it gone, nothing before it is sent.
  return Number.MAX_SAFE_INTEGER
}
