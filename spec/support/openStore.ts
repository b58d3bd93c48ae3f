import { join } from 'node:path'
import { SqliteStore, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from './postgres.js'
import { tempDir } from './tmp.js'

/**
 * Opens the store a worker process is pointed at: a SQLite file path, or
 * `postgres://...#schema` for PostgreSQL.
 */
export function openStore(target: string): StorageAdapter {
  if (!target.startsWith('postgres')) return new SqliteStore({ file: target })
  const [connectionString, schema] = target.split('#') as [string, string]
  return new PgStore({ connectionString, schema })
}

/** A store kind the multi-process specs run against; `create` gives a fresh target for workers. */
export interface StoreKind {
  readonly name: string
  create(dir: string): Promise<{ target: string; dispose: () => Promise<void> }>
}

/** SQLite always; PostgreSQL when a server is given (npm run test:pg, CI). */
export const storeKinds: StoreKind[] = [
  { name: 'SqliteStore', create: async (dir) => ({ target: join(dir, 'store.db'), dispose: async () => {} }) },
  ...(PG_URL
    ? [
        {
          name: 'PgStore',
          create: async () => {
            const schema = freshSchema()
            return { target: `${PG_URL}#${schema}`, dispose: () => dropSchema(schema) }
          },
        },
      ]
    : []),
]

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
