import type { StorageAdapter } from 'omniscient-actors'

const CATALOG = new Set<PropertyKey>(['listStreams', 'listLeases', 'listCheckpoints'])

/** The store as an adapter without the optional catalog reads (as RemoteStore is) would be. */
export function withoutCatalog(store: StorageAdapter): StorageAdapter {
  return new Proxy(store, { get: (target, key) => (CATALOG.has(key) ? undefined : (Reflect.get(target, key, target) as unknown)) })
}
