import type { NewEvent } from '../../envelope.js'
import { EventValidationError, UnknownEventError } from '../../errors.js'
import { findDefinition, upcastEventData, validateEventData, type AnyEventCatalog, type EventDefinition } from '../../events.js'
import { storedData } from '../../safeData.js'
import { SyncRequestError } from '../errors.js'
import type { AppendRequest } from '../protocol.js'

const MAX_ID_LENGTH = 256

function bad(message: string): SyncRequestError {
  return new SyncRequestError('BAD_REQUEST', 400, message)
}

/** Checks the shape of an append's body; throws BAD_REQUEST or BATCH_TOO_LARGE naming the field. */
export function parseAppendRequest(body: unknown, maxBatch: number): AppendRequest {
  if (typeof body !== 'object' || body === null) throw bad('the body must be a JSON object { expectedVersion, events }')
  const b = body as Record<string, unknown>
  const expected = b.expectedVersion
  if (expected !== 'any' && !(Number.isSafeInteger(expected) && (expected as number) >= 0)) {
    throw bad('expectedVersion must be a whole number >= 0 or "any"')
  }
  if (!Array.isArray(b.events)) throw bad('events must be an array')
  if (b.events.length > maxBatch) {
    throw new SyncRequestError('BATCH_TOO_LARGE', 413, `a batch holds at most ${maxBatch} events, this one ${b.events.length}; nothing was stored`)
  }
  const events = b.events.map((e: unknown, i: number) => parseEvent(e, i))
  let lease: AppendRequest['lease']
  if (b.lease !== undefined) {
    const l = b.lease as Record<string, unknown>
    if (typeof l !== 'object' || l === null || typeof l.name !== 'string' || !Number.isSafeInteger(l.term)) throw bad('lease must be { name, term }')
    lease = { name: l.name, term: l.term as number }
  }
  return { expectedVersion: expected as number | 'any', events, ...(lease ? { lease } : {}) }
}

function parseEvent(value: unknown, i: number): NewEvent {
  if (typeof value !== 'object' || value === null) throw bad(`events[${i}] must be an object`)
  const e = value as Record<string, unknown>
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > MAX_ID_LENGTH) throw bad(`events[${i}].id must be a string of 1 to ${MAX_ID_LENGTH} characters`)
  if (typeof e.name !== 'string' || e.name.length === 0) throw bad(`events[${i}].name must be a non-empty string`)
  if (!Number.isSafeInteger(e.schemaVersion) || (e.schemaVersion as number) < 1) throw bad(`events[${i}].schemaVersion must be a whole number >= 1`)
  if (typeof e.at !== 'number' || !Number.isFinite(e.at)) throw bad(`events[${i}].at must be a number (ms since the epoch)`)
  if (e.meta !== undefined && (typeof e.meta !== 'object' || e.meta === null || Array.isArray(e.meta))) throw bad(`events[${i}].meta must be an object`)
  return { id: e.id, name: e.name, data: e.data, schemaVersion: e.schemaVersion as number, at: e.at, meta: (e.meta ?? {}) }
}

/**
 * Validates appended events against the server's catalogs, so that no client can store what
 * the server's actors could not apply: an unknown name is UNKNOWN_EVENT, bad data
 * EVENT_VALIDATION naming the field, a schema version newer than the server knows is refused.
 * Returns the events to store: at the current schema version with the data the schema gives
 * (unknown keys stripped, defaults set), as a local Fire stores it; older versions as sent,
 * since they are upcast on read.
 */
export function validateAgainstCatalogs(events: readonly NewEvent[], catalogs: readonly AnyEventCatalog[]): NewEvent[] {
  return events.map((event) => {
    const definition = lookup(catalogs, event.name)
    if (!definition) throw new UnknownEventError(event.name, 'the sync server', catalogs.flatMap((c) => Object.keys(c)))
    if (event.schemaVersion > definition.version) {
      throw new EventValidationError(event.name, [], `it was written at schema version ${event.schemaVersion}, but the server knows versions up to ${definition.version}`)
    }
    if (event.schemaVersion < definition.version) {
      upcastEventData(definition, event.data, event.schemaVersion)
      return event
    }
    return { ...event, data: storedData(event.name, validateEventData(definition, event.data)) }
  })
}

function lookup(catalogs: readonly AnyEventCatalog[], name: string): EventDefinition | undefined {
  for (const catalog of catalogs) {
    const found = findDefinition(catalog, name)
    if (found) return found
  }
  return undefined
}
