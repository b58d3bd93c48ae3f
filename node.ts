// The main entry point as Node resolves it (the `node` export condition): the core of
// index.ts, plus SqliteStore, which needs better-sqlite3 and node:fs and so has no place in a
// browser bundle. Browsers and bundlers get index.ts alone; `omniscient-actors/sqlite` exports SqliteStore too.
import { hostname } from 'node:os'
import { setInstanceLabel } from './lib/ids.js'

export * from './index.js'
export { SqliteStore, type SqliteStoreOptions } from './lib/store/sqlite/index.js'

// Lease holder ids name the machine and process, as people reading the leases expect.
setInstanceLabel(`${hostname()}:${process.pid}`)
