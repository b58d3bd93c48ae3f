import type { NewEvent } from '../../envelope.js'
import { EventValidationError, UnknownEventError } from '../../errors.js'
import { findDefinition, upcastEventData, validateEventData, type AnyEventCatalog, type EventDefinition } from '../../events.js'
import { dataFaultError, findDataFault, storedData } from '../../safeData.js'
import { checkDistinctIds, checkEvent, checkIdentifier, checkInteger, MAX_ID_BYTES } from '../../store/kit/arguments.js'
import { SyncRequestError } from '../errors.js'
import type { AppendRequest } from '../protocol.js'

function bad(message: string): SyncRequestError {
  return new SyncRequestError('BAD_REQUEST', 400, message)
}

/**
 * Checks an append's body: its shape (BAD_REQUEST naming the field, BATCH_TOO_LARGE), each
 * event by the stores' own rule (`checkEvent`, ids within the store's `maxIdBytes`: a
 * BAD_REQUEST with its words), ids distinct (IDEMPOTENCY), and data and meta JSON can keep
 * (UNSERIALIZABLE, 422).
 */
export function parseAppendRequest(body: unknown, maxBatch: number, maxIdBytes = MAX_ID_BYTES): AppendRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object { expectedVersion, events }')
  const b = body as Record<string, unknown>
  const expected = b.expectedVersion
  if (expected !== 'any') asBadRequest(() => checkInteger(expected, 'expectedVersion'))
  if (!Array.isArray(b.events)) throw bad('events must be an array')
  if (b.events.length > maxBatch) {
    throw new SyncRequestError('BATCH_TOO_LARGE', 413, `a batch holds at most ${maxBatch} events, this one ${b.events.length}; nothing was stored`)
  }
  const events = b.events.map((e: unknown, i: number) => parseEvent(e, i, maxIdBytes))
  checkDistinctIds(events)
  let lease: AppendRequest['lease']
  if (b.lease !== undefined) {
    const l = b.lease as Record<string, unknown>
    if (typeof l !== 'object' || l === null) throw bad('lease must be { name, term }')
    asBadRequest(() => {
      checkIdentifier(l.name, 'lease.name', maxIdBytes)
      checkInteger(l.term, 'lease.term')
    })
    lease = { name: l.name as string, term: l.term as number }
  }
  return { expectedVersion: expected as AppendRequest['expectedVersion'], events, ...(lease ? { lease } : {}) }
}

function parseEvent(value: unknown, i: number, maxIdBytes: number): NewEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`events[${i}] must be an object`)
  const e = value as Record<string, unknown>
  const given: unknown = { id: e.id, name: e.name, data: e.data, schemaVersion: e.schemaVersion, at: e.at, meta: e.meta === undefined ? {} : e.meta }
  asBadRequest(() => checkEvent(given, `events[${i}]`, maxIdBytes))
  const event = given as NewEvent
  // What JSON cannot keep as sent (nesting past MAX_DATA_DEPTH) is the client's data refused.
  // Forbidden keys are the catalogs' to refuse; without catalogs they are stored, and dropped
  // when read back, as a store's own append keeps them.
  const fault = findDataFault(event.data, true, false)
  if (fault) throw dataFaultError(event.name, fault)
  const metaFault = findDataFault(event.meta, true, false)
  if (metaFault) {
    metaFault.path.unshift('meta')
    throw dataFaultError(event.name, metaFault)
  }
  return event
}

// The store's rule, in its words, as the protocol's code for a malformed request.
function asBadRequest(check: () => void): void {
  try {
    check()
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code !== 'INVALID_ARGUMENT') throw err
    throw bad((err as Error).message.replace(/; nothing was stored$/, ''))
  }
}

/**
 * Validates appended events against the server's catalogs, so that no client can store what
 * the server's actors could not apply: an unknown name is UNKNOWN_EVENT, bad data
 * EVENT_VALIDATION naming the field, a schema version newer than the server knows is refused,
 * and an older one whose upcasters fail on it (or throw) is refused too. Returns the events to
 * store: at the current schema version with the data the schema gives (unknown keys stripped,
 * defaults set), as a local Fire stores it; older versions as sent, since they are upcast on
 * read.
 */
export function validateAgainstCatalogs(events: readonly NewEvent[], catalogs: readonly AnyEventCatalog[]): NewEvent[] {
  return events.map((event) => {
    const definition = lookup(catalogs, event.name)
    if (!definition) throw new UnknownEventError(event.name, 'the sync server', catalogs.flatMap((c) => Object.keys(c)))
    if (event.schemaVersion > definition.version) {
      throw new EventValidationError(event.name, [], `it was written at schema version ${event.schemaVersion}, but the server knows versions up to ${definition.version}`)
    }
    if (event.schemaVersion < definition.version) {
      upcastOrRefuse(definition, event)
      return event
    }
    return { ...event, data: storedData(event.name, validateEventData(definition, event.data)) }
  })
}

// An upcaster is the server's code, written for data its own actors stored: client data may
// make it throw. That is the client's data refused (422), not the server failing (503); what
// it threw stays on the server.
function upcastOrRefuse(definition: EventDefinition, event: NewEvent): void {
  try {
    upcastEventData(definition, event.data, event.schemaVersion)
  } catch (err) {
    if (err instanceof EventValidationError) throw err
    throw new EventValidationError(event.name, [{ path: [], code: 'upcast_failed', message: `the server's upcaster from schema version ${event.schemaVersion} failed on this data` }])
  }
}

function lookup(catalogs: readonly AnyEventCatalog[], name: string): EventDefinition | undefined {
  for (const catalog of catalogs) {
    const found = findDefinition(catalog, name)
    if (found) return found
  }
  return undefined
}
