import { isOmniscientError, StorageError } from '../../errors.js'

const RETRIES = 3

/**
 * Runs a write that is safe to send again as it is (the same documents, the same claims): a
 * lost answer or a dropped connection is retried a few times. If an answer was lost and the
 * server then stayed away, the failure says "indeterminate": it may have happened.
 */
export async function repeatable<T>(what: string, write: () => Promise<T>): Promise<T> {
  let indeterminate: unknown
  for (let attempt = 0; ; attempt++) {
    try {
      return await write()
    } catch (err) {
      const code = isOmniscientError(err) ? err.code : ''
      if (code === 'STORAGE_INDETERMINATE') indeterminate = err
      const retryable = code === 'STORAGE_INDETERMINATE' || code === 'STORAGE_UNAVAILABLE'
      if (!retryable || attempt >= RETRIES) {
        if (indeterminate && code !== 'STORAGE_INDETERMINATE') {
          throw new StorageError(`${what} may or may not have happened (the answer was lost, then the server stayed away); retrying with the same ids is safe`, { cause: err, code: 'STORAGE_INDETERMINATE' })
        }
        throw err
      }
    }
  }
}
