// Opens the store a followers-bench process works on: `sqlite:<file>` or `pg:<schema>` (PG_URL).
import { SqliteStore, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'

export function openBenchStore(target: string): StorageAdapter {
  const [engine, where] = [target.slice(0, target.indexOf(':')), target.slice(target.indexOf(':') + 1)]
  if (engine === 'sqlite') return new SqliteStore({ file: where })
  if (engine === 'pg') return new PgStore({ connectionString: process.env['PG_URL'] ?? '', schema: where })
  throw new Error(`unknown bench store "${target}"`)
}
