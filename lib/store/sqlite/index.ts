// `omniscient-actors/sqlite`: the embedded SQLite adapter (needs the `better-sqlite3` package).
export { SqliteStore, type SqliteStoreOptions } from './SqliteStore.js'
