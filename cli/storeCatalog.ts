import { checkListStreams } from '../lib/store/StoreCatalog.js'
import type { CheckpointState, LeaseState, ListStreamsOptions, StorageAdapter, StreamInfo } from '../node.js'

/**
 * Streams in id order, from the adapter's `listStreams` when it has one; otherwise by reading
 * the whole log once (fine for small stores, slow for big ones), with the same option rules
 * (`checkListStreams`: a page of 1 to 10,000, no NUL in `contains` or `after`).
 *
 * @example
 * for (const s of await listStreams(store, { contains: 'cart-' })) console.log(s.streamId, s.version)
 */
export async function listStreams(store: StorageAdapter, options: ListStreamsOptions = {}): Promise<readonly StreamInfo[]> {
  if (store.listStreams) return store.listStreams(options)
  const { after, contains, limit } = checkListStreams(options)
  const byId = new Map<string, StreamInfo>()
  for await (const e of store.readAll()) {
    if (e.streamId <= after || !e.streamId.includes(contains)) continue
    byId.set(e.streamId, { streamId: e.streamId, version: e.version, lastPosition: e.position, lastAt: e.at })
  }
  return [...byId.values()].sort((a, b) => (a.streamId < b.streamId ? -1 : 1)).slice(0, limit)
}

/** Every lease, or undefined when the adapter cannot list them. */
export async function listLeases(store: StorageAdapter): Promise<readonly LeaseState[] | undefined> {
  return store.listLeases ? store.listLeases() : undefined
}

/** Every checkpoint, or undefined when the adapter cannot list them. */
export async function listCheckpoints(store: StorageAdapter): Promise<readonly CheckpointState[] | undefined> {
  return store.listCheckpoints ? store.listCheckpoints() : undefined
}
