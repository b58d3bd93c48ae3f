import type pg from 'pg'
import { StorageError } from '../../errors.js'

/** How long one store call may take, connecting included, unless `callTimeoutMs` says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000

// PostgreSQL error classes that mean "the connection or server went away", not "your query is wrong".
const CONNECTION_CLASSES = ['08', '57P']

/** The connection or server went away: the statement may or may not have committed. */
export function isConnectionLoss(err: unknown): boolean {
  const raw = (err as { code?: unknown }).code
  const code = typeof raw === 'string' ? raw : ''
  return (
    CONNECTION_CLASSES.some((c) => code.startsWith(c)) ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code) ||
    /terminat|Connection|timeout exceeded when trying to connect/i.test(String((err as Error).message))
  )
}

/** What a lost or late answer means: nothing can have been written, or a write may have been. */
export type LostCode = 'STORAGE_UNAVAILABLE' | 'STORAGE_INDETERMINATE'

/**
 * Every call PgStore makes, each within one deadline (`callTimeoutMs`), connecting included.
 * pg's own `query_timeout` rejects the query but leaves its connection in the pool, waiting for
 * an answer that a silent network never brings; here a call past its deadline destroys the
 * socket of the client it used, so that client never serves another call, and fails with
 * STORAGE_UNAVAILABLE, or STORAGE_INDETERMINATE for a write that may have committed. Any
 * other failure is thrown as pg threw it, for the caller to type.
 */
export class PgCalls {
  constructor(
    private readonly pool: pg.Pool,
    readonly timeoutMs: number,
  ) {}

  /** One statement on a pooled connection. */
  async query<R extends pg.QueryResultRow>(sql: string | pg.QueryConfig, params: unknown[] | undefined, what: string, lost: LostCode = 'STORAGE_UNAVAILABLE'): Promise<R[]> {
    return this.withClient(what, lost, async (client) => (await client.query<R>(sql, params)).rows)
  }

  /** Several statements on one pooled connection (a transaction), within one deadline. */
  async withClient<T>(what: string, lost: LostCode, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined
    let expired = false
    let timer: NodeJS.Timeout | undefined
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true
        reject(new StorageError(`PostgreSQL ${what}: no answer within ${this.timeoutMs} ms (callTimeoutMs); the connection was discarded`, { code: lost }))
      }, this.timeoutMs)
    })
    const attempt = (async () => {
      const connected = await this.pool.connect()
      // Connected after the deadline: nobody waits for it, give it back unused.
      if (expired) return void connected.release()
      client = connected
      return work(connected)
    })()
    try {
      const result = (await Promise.race([attempt, expiry])) as T
      client?.release()
      return result
    } catch (err) {
      if (expired) {
        attempt.catch(() => undefined)
        if (client) discard(client)
      } else {
        // As pg's own pool.query does: a client whose statement failed is not reused.
        client?.release(err instanceof Error ? err : true)
      }
      throw err
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * Destroys a checked-out client's socket and removes it from the pool. Its pending statement
 * then fails (and is ignored); an 'error' with no listener would crash the process.
 */
export function discard(client: pg.PoolClient | pg.Client): void {
  client.on('error', () => undefined)
  ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
  if ('release' in client) client.release(new Error('discarded after its deadline'))
}
