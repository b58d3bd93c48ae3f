import type { StorageAdapter } from '../store/StorageAdapter.js'

// By class name: the core must not import the engine adapters to tell them apart.
const SYSTEMS: Record<string, string> = {
  SqliteStore: 'sqlite',
  PgStore: 'postgresql',
  RethinkStore: 'rethinkdb',
  MemoryStore: 'memory',
  RemoteStore: 'omniscient-sync',
}

/** The `db.system.name` of a store: sqlite, postgresql, rethinkdb, memory, omniscient-sync, or its class name. */
export function storeSystem(store: StorageAdapter): string {
  const name = (store as object).constructor.name
  return SYSTEMS[name] ?? name
}
