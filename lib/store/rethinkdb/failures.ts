import type { WriteResult } from 'rethinkdb-ts'
import { isRethinkDBError, RethinkDBErrorType } from './rethinkDriver.js'
import { isOmniscientError, StorageError } from '../../errors.js'

// How RethinkDB's answers are read. Kept apart from the queries so that every rule can be
// tested without a server.

/** What a failed query means for the caller. */
export type FailureKind =
  /** The query certainly did nothing and can be retried (no connection, no primary replica). */
  | 'unavailable'
  /** A write may or may not have happened: it must be resolved by reading back. */
  | 'indeterminate'
  /** A query or data error: retrying will not help. */
  | 'fatal'

// Errors raised before the query could reach a server: nothing was written.
const NOT_SENT = new Set([RethinkDBErrorType.POOL_FAIL, RethinkDBErrorType.MASTER_POOL_FAIL, RethinkDBErrorType.AUTH])
// Errors of a query that may have reached the server before the answer was lost.
const LOST_ANSWER = new Set([RethinkDBErrorType.CONNECTION, RethinkDBErrorType.TIMEOUT, RethinkDBErrorType.CANCEL])
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'])

/**
 * Classifies a failed query. A lost connection during a read is only "unavailable"; during a
 * write it is "indeterminate", because the server may have applied it before the answer was lost.
 */
export function failureKind(err: unknown, write: boolean): FailureKind {
  if (isRethinkDBError(err)) {
    if (err.type === RethinkDBErrorType.OP_INDETERMINATE) return write ? 'indeterminate' : 'unavailable'
    // OP_FAILED: the server says the operation was not applied (no primary replica, say).
    if (err.type === RethinkDBErrorType.OP_FAILED || NOT_SENT.has(err.type)) return 'unavailable'
    if (LOST_ANSWER.has(err.type)) return write ? 'indeterminate' : 'unavailable'
    return 'fatal'
  }
  const code = (err as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return 'unavailable'
  return 'fatal'
}

/** The server's own words: rethinkdb-ts puts the whole query in `.message`, the cause in `.msg`. */
export function failureText(err: unknown): string {
  if (isRethinkDBError(err)) return err.msg
  return err instanceof Error ? err.message : String(err)
}

const CODES: Record<FailureKind, string> = { unavailable: 'STORAGE_UNAVAILABLE', indeterminate: 'STORAGE_INDETERMINATE', fatal: 'STORAGE' }

/** A failed query as the typed error the framework throws. */
export function storageFailure(err: unknown, what: string, write: boolean): unknown {
  if (isOmniscientError(err)) return err
  const kind = failureKind(err, write)
  return new StorageError(`RethinkDB ${what} failed: ${failureText(err)}`, { cause: err, code: CODES[kind] })
}

/** What one write did, read from its WriteResult. */
export type WriteOutcome = 'written' | 'unchanged' | 'duplicate'

/**
 * Reads the result of a single-document write. RethinkDB does not throw for a failed
 * document: a duplicate primary key comes back as `errors: 1` with `first_error`, and any
 * other error there is a real failure. Every write result goes through here.
 */
export function writeOutcome(result: WriteResult<unknown>, what: string): WriteOutcome {
  if (result.errors > 0) {
    const first = result.first_error ?? 'unknown error'
    if (/^Duplicate primary key/.test(first)) return 'duplicate'
    throw new StorageError(`RethinkDB ${what} failed: ${first}`, { code: 'STORAGE' })
  }
  if (result.inserted + result.replaced + result.deleted > 0) return 'written'
  if (result.unchanged > 0) return 'unchanged'
  // skipped: the document did not exist, and nothing was written.
  if (result.skipped > 0) return 'unchanged'
  throw new StorageError(`RethinkDB ${what}: the server reported no write at all (${JSON.stringify(result)})`, { code: 'STORAGE' })
}

/** Whether a DDL failure only says the database, table or index is already there (another process made it). */
export function alreadyExists(err: unknown): boolean {
  return /already exists/.test(failureText(err))
}

/** The counts a write adds when a branch decides to write nothing (for `r.branch(..., write, SKIPPED_WRITE)`). */
export const SKIPPED_WRITE = { deleted: 0, errors: 0, inserted: 0, replaced: 0, skipped: 1, unchanged: 0 }
