// The main entry point as Node resolves it (the `node` export condition): the core of
// index.ts, plus SqliteStore, which needs better-sqlite3 and node:fs and so has no place in a
// browser bundle. Browsers and bundlers get index.ts alone; `omniscient-actors/sqlite` exports SqliteStore too.
import { createRequire } from 'node:module'
import { hostname } from 'node:os'
import { setInstanceLabel } from './lib/ids.js'
import { useOpenTelemetry } from './lib/telemetry/useOpenTelemetry.js'
import type { OpenTelemetryApi } from './lib/telemetry/OpenTelemetryApi.js'

export * from './index.js'
export { SqliteStore, type SqliteStoreOptions } from './lib/store/sqlite/index.js'

// Lease holder ids name the machine and process, as people reading the leases expect.
setInstanceLabel(`${hostname()}:${process.pid}`)

// Under Node, @opentelemetry/api (an optional peer) is picked up when it resolves: spans and
// metrics then go to whatever SDK the application registers, and without one nothing is
// recorded. Loaded synchronously (it is CommonJS) so the first Fire is already covered.
try {
  useOpenTelemetry(createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetryApi)
} catch {
  // Not installed: no telemetry.
}
