import { isDeepStrictEqual } from 'node:util'
import type { EventEnvelope, NewEvent } from '../../envelope.js'
import { IdempotencyError } from '../../errors.js'
import type { AppendOptions, AppendResult, StorageAdapter } from '../../store/StorageAdapter.js'

/**
 * A client's append, answered with nothing the client did not send. Ids are the idempotency
 * keys, and a client may pick any id, including one it guessed (a `derivedId`): a store's
 * answer to a stored id (the stored events, or the stream that holds it) would hand the
 * client events it may not read. So a batch whose ids are stored is answered with the stored
 * envelopes only when they are the batch sent (same stream, names, schema versions and data as
 * the schema gave them back); every other use of a stored id, on this stream or another, is the
 * one refusal `IDEMPOTENCY` "is already taken", naming the id alone.
 *
 * @example
 * await appendOnce(store, 'alice:1', events, { expectedVersion: 'any' }) // a resend: { alreadyStored: true, events }
 */
export async function appendOnce(store: StorageAdapter, streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
  let result: AppendResult
  try {
    result = await store.append(streamId, events, options)
  } catch (err) {
    // The store's message says where the id is stored: only the id goes back.
    const refused = err as { code?: unknown; eventId?: unknown } | null
    if (refused?.code === 'IDEMPOTENCY') throw taken(typeof refused.eventId === 'string' ? refused.eventId : (events[0]?.id ?? ''))
    throw err
  }
  if (result.alreadyStored) {
    for (let i = 0; i < events.length; i++) if (!sameEvent(streamId, events[i]!, result.events[i])) throw taken(events[i]!.id)
  }
  return result
}

function sameEvent(streamId: string, sent: NewEvent, stored: EventEnvelope | undefined): boolean {
  return (
    stored !== undefined &&
    stored.id === sent.id &&
    stored.streamId === streamId &&
    stored.name === sent.name &&
    stored.schemaVersion === sent.schemaVersion &&
    // Both went through JSON (the request body, the store's text): equal values compare equal.
    isDeepStrictEqual(stored.data, sent.data)
  )
}

function taken(eventId: string): IdempotencyError {
  return new IdempotencyError(eventId, 'is already taken by another event; nothing was stored')
}
