import type { EventEnvelope, NewEvent } from '../../envelope.js'
import { ConcurrencyError, IdempotencyError } from '../../errors.js'
import type { ExpectedVersion } from '../StorageAdapter.js'

// The rules every adapter applies inside its append, in one place so they cannot drift apart.
// (Its arguments are checked before, by arguments.ts.)

/** Throws ConcurrencyError unless the stream is at the version the writer expects. */
export function assertExpectedVersion(streamId: string, expected: ExpectedVersion, actual: number): void {
  if (expected !== 'any' && expected !== actual) throw new ConcurrencyError(streamId, expected, actual)
}

/**
 * Decides whether a batch is a retry. Returns the stored envelopes when every id is stored,
 * undefined when none is, and throws when the batch mixes both or an id lives on another stream.
 */
export function storedBatch(
  streamId: string,
  events: readonly NewEvent[],
  findStored: (id: string) => EventEnvelope | undefined,
): EventEnvelope[] | undefined {
  const stored: EventEnvelope[] = []
  for (const event of events) {
    const found = findStored(event.id)
    if (found && found.streamId !== streamId) {
      throw new IdempotencyError(event.id, `is already stored on stream "${found.streamId}", not "${streamId}"`)
    }
    if (found) stored.push(found)
  }
  if (stored.length === 0) return undefined
  if (stored.length !== events.length) {
    throw new IdempotencyError(stored[0]!.id, `is already stored but ${events.length - stored.length} other event(s) of the batch are not; a retry must resend the same batch`)
  }
  return stored
}
