import type { StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { dropSchema, freshSchema, PG_URL } from '../postgres.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../rethinkdb.js'

/** A store server the fault specs cut clients from, when its URL is given. */
export interface ServerKind {
  readonly name: string
  readonly url: string | undefined
  /** What to set to run the specs on it. */
  readonly needs: string
  readonly defaultPort: number
  fresh(): string
  drop(namespace: string): Promise<void>
  open(url: string, namespace: string): StorageAdapter
}

export const servers: ServerKind[] = [
  { name: 'PgStore', url: PG_URL, needs: 'PG_URL (bash scripts/with-postgres.sh npm run test:faults)', defaultPort: 5432, fresh: freshSchema, drop: dropSchema, open: (url, schema) => new PgStore({ connectionString: url, schema }) },
  { name: 'RethinkStore', url: RETHINKDB_URL, needs: 'RETHINKDB_URL (a running RethinkDB server; none was given)', defaultPort: 28015, fresh: freshPrefix, drop: dropTables, open: (url, tablePrefix) => new RethinkStore({ url, tablePrefix }) },
]

/** The URL with its host and port replaced. */
export function through(url: string, address: { host: string; port: number }): string {
  const u = new URL(url)
  u.host = `${address.host}:${address.port}`
  return u.toString()
}
