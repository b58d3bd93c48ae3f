import { join } from 'node:path'
import { SqliteStore, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { RemoteStore } from 'omniscient-actors/sync'
import { dropSchema, freshSchema, PG_URL } from './postgres.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from './rethinkdb.js'
import { tempDir } from './tmp.js'
import { extraVariants } from './variants.js'

/**
 * Opens the store a worker process is pointed at: a SQLite file path,
 * `postgres://...#schema` for PostgreSQL, `rethinkdb://...#tablePrefix` for RethinkDB or
 * `http://...#token` for a sync server.
 */
export function openStore(target: string): StorageAdapter {
  const [url, namespace] = target.split('#') as [string, string]
  if (target.startsWith('http')) return new RemoteStore({ url, token: namespace })
  if (target.startsWith('postgres')) return new PgStore({ connectionString: url, schema: namespace })
  if (target.startsWith('rethinkdb')) return new RethinkStore({ url, tablePrefix: namespace })
  return new SqliteStore({ file: target })
}

/** A store kind the multi-process specs run against; `create` gives a fresh target for workers. */
export interface StoreKind {
  readonly name: string
  create(dir: string): Promise<{ target: string; dispose: () => Promise<void> }>
}

/**
 * A store on a server, when its URL is given: each target is `url#namespace`, with a namespace
 * (schema, table prefix) of its own that `drop` removes afterwards.
 */
function serverKind(name: string, url: string | undefined, fresh: () => string, drop: (namespace: string) => Promise<void>): StoreKind[] {
  if (!url) return []
  return [
    {
      name,
      create: async () => {
        const namespace = fresh()
        return { target: `${url}#${namespace}`, dispose: () => drop(namespace) }
      },
    },
  ]
}

/** SQLite always; PostgreSQL and RethinkDB when a server is given (npm run test:pg, CI; npm run test:rethink). */
export const storeKinds: StoreKind[] = [
  { name: 'SqliteStore', create: async (dir) => ({ target: join(dir, 'store.db'), dispose: async () => {} }) },
  ...serverKind('PgStore', PG_URL, freshSchema, dropSchema),
  ...serverKind('RethinkStore', RETHINKDB_URL, freshPrefix, dropTables),
]

/**
 * The stores the multi-process specs run on: SQLite in `npm test`; the servers given, with
 * `SPEC_VARIANTS=extra` (spec/support/variants.ts: `npm run test:faults`, which CI runs).
 */
export const processStoreKinds: StoreKind[] = storeKinds.filter((kind) => (kind.name === 'SqliteStore') !== extraVariants)

/**
 * Registers mocha hooks that give each test a fresh target of `kind` (and a temp folder), and
 * dispose of it afterwards. Call it after any afterEach that must run first (killing workers).
 */
export function freshTarget(kind: StoreKind): { readonly target: string; readonly dir: string } {
  let tmp: ReturnType<typeof tempDir> | undefined
  let current: { target: string; dispose: () => Promise<void> } | undefined
  beforeEach(async () => {
    tmp = tempDir()
    current = await kind.create(tmp.dir)
  })
  afterEach(async () => {
    await current?.dispose()
    tmp?.remove()
  })
  return {
    get target() {
      return current!.target
    },
    get dir() {
      return tmp!.dir
    },
  }
}
