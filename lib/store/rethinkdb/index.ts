// `omniscient-actors/rethinkdb`: the RethinkDB adapter (needs the `rethinkdb-ts` package).
export { RethinkStore, RETHINK_MAX_ID_BYTES, type RethinkStoreOptions } from './RethinkStore.js'
export type { RethinkServer, ConnectionTiming, TableLayout, LeaseClock } from './options.js'
