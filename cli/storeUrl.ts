import { existsSync } from 'node:fs'
import { MemoryStore, SqliteStore, type StorageAdapter } from '../node.js'
import { CliError } from './errors.js'

/** Opens a store for a URL of one scheme. `mustExist`: the command only reads, so a missing store is an error. */
export type StoreOpener = (url: URL, raw: string, options: { readonly mustExist: boolean }) => Promise<StorageAdapter>

const openers = new Map<string, StoreOpener>()

/**
 * Teaches the CLI a store URL scheme (the colon included, as `URL.protocol` has it). This is
 * how the sync server's URLs plug in: `registerStoreScheme('https:', (url) => new RemoteStore(...))`.
 *
 * @example
 * registerStoreScheme('memory:', async () => new MemoryStore())
 */
export function registerStoreScheme(protocol: string, open: StoreOpener): void {
  openers.set(protocol, open)
}

/**
 * Opens the store a URL names:
 * - `sqlite:./.data/app.db` (or `sqlite:/abs/path.db`, or a bare path ending in `.db`/`.sqlite`)
 * - `postgres://user:pw@host:5432/db?schema=omniscient` (`postgresql://` too)
 * - `rethinkdb://user:pw@host:28015/db?prefix=omniscient_`
 * - any scheme added with `registerStoreScheme`.
 *
 * @example
 * const store = await openStore('sqlite:./.data/app.db', { mustExist: true })
 */
export async function openStore(raw: string, options: { readonly mustExist: boolean }): Promise<StorageAdapter> {
  const text = /^[^:]+\.(db|sqlite|sqlite3)$/.test(raw) ? `sqlite:${raw}` : raw
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CliError('INVALID_STORE_URL', `"${raw}" is not a store URL (sqlite:./file.db, postgres://..., rethinkdb://...)`)
  }
  const open = openers.get(url.protocol)
  if (!open) {
    throw new CliError('UNKNOWN_STORE_SCHEME', `no store for "${url.protocol}" URLs (known: ${[...openers.keys()].join(' ')})`)
  }
  return open(url, text, options)
}

/** The URL without its password, for printing. */
export function redactedStoreUrl(raw: string): string {
  try {
    const url = new URL(raw)
    if (url.password) url.password = '***'
    return url.protocol === 'sqlite:' ? raw : url.toString()
  } catch {
    return raw
  }
}

// A private, empty store that lives as long as the command (dry runs, trying the CLI out).
registerStoreScheme('memory:', async () => new MemoryStore())

registerStoreScheme('sqlite:', async (_url, raw, { mustExist }) => {
  // Everything after "sqlite:" is the path; "sqlite://" + "/abs" reads as an absolute path.
  const file = decodeURIComponent(raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''))
  if (file.length === 0) throw new CliError('INVALID_STORE_URL', `"${raw}" names no file (sqlite:./.data/app.db)`)
  if (mustExist && file !== ':memory:' && !existsSync(file)) throw new CliError('STORE_NOT_FOUND', `no SQLite database at "${file}"`)
  return new SqliteStore({ file })
})

const openPostgres: StoreOpener = async (url) => {
  const { PgStore } = await import('../lib/store/postgres/index.js')
  const schema = url.searchParams.get('schema') ?? undefined
  url.searchParams.delete('schema')
  return new PgStore({ connectionString: url.toString(), ...(schema ? { schema } : {}) })
}
registerStoreScheme('postgres:', openPostgres)
registerStoreScheme('postgresql:', openPostgres)

registerStoreScheme('rethinkdb:', async (url) => {
  const { RethinkStore } = await import('../lib/store/rethinkdb/index.js')
  const tablePrefix = url.searchParams.get('prefix') ?? undefined
  url.search = ''
  return new RethinkStore({ url: url.toString(), ...(tablePrefix !== undefined ? { tablePrefix } : {}) })
})
