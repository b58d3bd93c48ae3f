import type pg from 'pg'
import { StorageError } from '../../errors.js'
import { withDeadline } from '../kit/withDeadline.js'

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
    const attempt = async () => {
      const connected = await this.checkout()
      // Connected after the deadline: nobody waits for it, give it back unused.
      if (expired) return void connected.release()
      client = connected
      return work(connected)
    }
    try {
      const result = await withDeadline(attempt as () => Promise<T>, this.timeoutMs, () => {
        expired = true
        return new StorageError(`PostgreSQL ${what}: no answer within ${this.timeoutMs} ms (callTimeoutMs); the connection was discarded`, { code: lost })
      })
      client?.release()
      return result
    } catch (err) {
      if (expired) {
        if (client) discard(client)
      } else {
        // As pg's own pool.query does: a client whose statement failed is not reused.
        client?.release(err instanceof Error ? err : true)
      }
      throw err
    }
  }

  /**
   * A client from the pool, listened to for errors until it is released. pg-pool takes its own
   * 'error' listener off a client it hands out, and pg emits a server-side disconnect that
   * arrives while no statement runs on the client (idle inside a transaction; a process paused
   * by SIGSTOP whose server ended the session meanwhile, idle_in_transaction_session_timeout)
   * as an 'error' event: with no listener, that crashes the process. A client that saw an error
   * is discarded when released, never given back to the pool.
   */
  async checkout(): Promise<pg.PoolClient> {
    const client = await this.pool.connect()
    let failure: Error | undefined
    const onError = (err: Error) => void (failure ??= err)
    client.on('error', onError)
    // pg-pool sets `release` afresh at each checkout, so this wrapper lasts for this one.
    const release = client.release.bind(client)
    client.release = (err?: Error | boolean) => {
      client.removeListener('error', onError)
      release(err ?? failure)
    }
    return client
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
