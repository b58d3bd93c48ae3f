import type { Connection, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { StorageError, StoreClosedError } from '../../errors.js'
import { failureKind, storageFailure } from './failures.js'
import { withDeadline } from '../kit/withDeadline.js'
import type { ConnectionTiming, RethinkServer } from './options.js'

/** Any ReQL query (rethinkdb-ts's own query types do not unify across composed queries). */
export interface Runnable {
  run(connection: Connection): Promise<unknown>
}


/** Reads `rethinkdb://user:password@host:port/db` (port 28015 and db `omniscient` by default). */
export function parseRethinkUrl(url: string): RethinkServer {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new StorageError(`"${url}" is not a RethinkDB URL (rethinkdb://host:port/db)`, { cause: err, code: 'INVALID_URL' })
  }
  if (parsed.protocol !== 'rethinkdb:') throw new StorageError(`"${url}" is not a RethinkDB URL (rethinkdb://host:port/db)`, { code: 'INVALID_URL' })
  const db = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'omniscient'
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 28015,
    db,
    ...(parsed.username ? { user: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  }
}

/** Detaches our listeners, keeping one for 'error': an unheard 'error' event would crash Node. */
function silence(connection: Connection): void {
  connection.removeAllListeners()
  connection.on('error', () => undefined)
}


const MAX_BACKOFF_MS = 1_000

/** How long a query may wait for its answer, unless `callTimeoutMs` says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000

/**
 * Which deadline a query gets: `call`, callTimeoutMs once it is sent; `set-up`, none: creating
 * databases, tables and indexes and waiting for their replicas take as long as the cluster needs.
 */
export type Bound = 'call' | 'set-up'

/**
 * One connection per store, re-opened on loss. We do not use rethinkdb-ts's global pool: it is
 * one per process (two stores would share and close each other's), fails queries at once while
 * it reconnects, and `waitForHealthy()` has no timeout. Here a query waits for the connection,
 * but never longer than `waitTimeoutMs`. One connection carries any number of concurrent
 * queries (RethinkDB multiplexes them by token).
 */
export class RethinkConnection {
  private connection: Connection | undefined
  private connecting: Promise<Connection> | undefined
  private closed = false
  private readonly connectTimeoutMs: number
  private readonly waitTimeoutMs: number
  private readonly callTimeoutMs: number
  /** Bumped on every new connection: a changefeed opened on an older one must be re-opened. */
  generation = 0

  constructor(
    readonly server: RethinkServer,
    private readonly timing: ConnectionTiming = {},
  ) {
    this.connectTimeoutMs = timing.connectTimeoutMs ?? 5_000
    this.waitTimeoutMs = timing.waitTimeoutMs ?? 10_000
    this.callTimeoutMs = timing.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  }

  /** Runs a query that only reads (or whose repetition is harmless): a lost answer is "unavailable". */
  read<T>(query: Runnable, what: string, bound: Bound = 'call'): Promise<T> {
    return this.run<T>(query, what, false, bound)
  }

  /** Runs a write: a lost answer is "indeterminate" (STORAGE_INDETERMINATE) and must be resolved by the caller. */
  write<T = WriteResult<unknown>>(query: Runnable, what: string, bound: Bound = 'call'): Promise<T> {
    return this.run<T>(query, what, true, bound)
  }

  // The caller states what the query returns: rethinkdb-ts cannot type composed queries.
  private async run<T>(query: Runnable, what: string, write: boolean, bound: Bound): Promise<T> {
    const connection = await this.open(what)
    const answer = () => query.run(connection) as Promise<T>
    try {
      if (bound !== 'call') return await answer()
      return await withDeadline(answer, this.callTimeoutMs, () => {
        // A silent connection: every query on it is as lost as this one. Closing it fails them
        // at once and the next query opens a new one.
        this.drop(connection)
        const outcome = write ? 'it may or may not have been applied' : 'nothing was written'
        return new StorageError(`RethinkDB ${what}: no answer within ${this.callTimeoutMs} ms (callTimeoutMs); ${outcome}; the connection was closed`, { code: write ? 'STORAGE_INDETERMINATE' : 'STORAGE_UNAVAILABLE' })
      })
    } catch (err) {
      if (failureKind(err, write) !== 'fatal') this.drop(connection)
      throw storageFailure(err, what, write)
    }
  }

  /** The open connection, waiting (up to `waitTimeoutMs`) while it is re-established. */
  async open(what = 'connect'): Promise<Connection> {
    if (this.closed) throw new StoreClosedError('the RethinkDB store')
    if (this.connection?.open) return this.connection
    const connecting = (this.connecting ??= this.connectWithRetry().finally(() => (this.connecting = undefined)))
    return withDeadline(() => connecting, this.waitTimeoutMs, () => new StorageError(`RethinkDB ${what}: no connection to ${this.server.host}:${this.server.port} within ${this.waitTimeoutMs} ms`, { code: 'STORAGE_UNAVAILABLE' }))
  }

  private async connectWithRetry(): Promise<Connection> {
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new StoreClosedError('the RethinkDB store')
      try {
        const connection = await r.connect({
          host: this.server.host,
          port: this.server.port,
          db: this.server.db,
          ...(this.server.user ? { user: this.server.user } : {}),
          ...(this.server.password ? { password: this.server.password } : {}),
          timeout: Math.max(1, Math.ceil(this.connectTimeoutMs / 1000)),
          silent: true,
        })
        if (this.closed) {
          await connection.close().catch(() => undefined)
          throw new StoreClosedError('the RethinkDB store')
        }
        connection.on('close', () => this.drop(connection))
        connection.on('error', (err: unknown) => {
          this.timing.onError?.(err)
          this.drop(connection)
        })
        this.connection = connection
        this.generation++
        return connection
      } catch (err) {
        if (this.closed) throw err
        this.timing.onError?.(err)
        await new Promise((resolve) => setTimeout(resolve, Math.min(MAX_BACKOFF_MS, 25 * 2 ** attempt)))
      }
    }
  }

  /** Forgets a connection that failed; the next query opens a new one. */
  private drop(connection: Connection): void {
    if (this.connection !== connection) return
    this.connection = undefined
    silence(connection)
    void connection.close().catch(() => undefined)
  }

  /** Closes the connection; queries after this throw STORE_CLOSED. */
  async close(): Promise<void> {
    this.closed = true
    const connection = this.connection
    this.connection = undefined
    if (connection) silence(connection)
    await connection?.close().catch(() => undefined)
  }
}
