import type { EventMeta, NewEvent } from '../../envelope.js'
import { EventDecodeError, StorageError } from '../../errors.js'
import { findDataFault, parseStoredJson, type DataFault } from '../../safeData.js'

// Event data may be `undefined` (an event with no payload). JSON has no such value, and
// storing it as `null` would hand replay a different value than the one fired; the empty
// string, which is never valid JSON, stands for it instead.

/** Event data as stored text. */
export function encodeEventData(data: unknown): string {
  return data === undefined ? '' : JSON.stringify(data)
}

// A row that does not decode (damaged on disk, edited by hand) stops the read with an
// EventDecodeError naming it, rather than a bare SyntaxError: the reader can say which row to
// repair. Where the row sits is passed as plain arguments, so the common path allocates nothing.

/** Stored text back to event data; EventDecodeError when it is not JSON. */
export function decodeEventData(text: string, streamId: string, version: number, position: number): unknown {
  if (text === '') return undefined
  try {
    return parseStoredJson(text)
  } catch (err) {
    throw new EventDecodeError(streamId, version, position, 'data', err)
  }
}

// Events read in a row mostly carry the same metadata text (the same actor type), so the last
// one parsed is kept: a replay parses it once instead of once per event. The object is frozen,
// since every envelope carrying that text shares it.
let lastMetaText = '{}'
let lastMeta: EventMeta = Object.freeze({})

/**
 * Stored text back to event metadata (frozen, possibly shared with other envelopes);
 * EventDecodeError when it is not a JSON object.
 */
export function decodeEventMeta(text: string, streamId: string, version: number, position: number): EventMeta {
  if (text !== lastMetaText) {
    let meta: unknown
    try {
      meta = parseStoredJson(text)
    } catch (err) {
      throw new EventDecodeError(streamId, version, position, 'meta', err)
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new EventDecodeError(streamId, version, position, 'meta', `is ${JSON.stringify(meta)}, not an object`)
    }
    lastMeta = Object.freeze(meta as EventMeta)
    lastMetaText = text
  }
  return lastMeta
}

/** An event as every adapter stores it: data and meta as JSON text. */
export interface EncodedEvent {
  readonly id: string
  readonly name: string
  readonly data: string
  readonly schemaVersion: number
  readonly at: number
  readonly meta: string
}

/**
 * Encodes an event for storage. Data or meta that JSON cannot hold (or would change: see
 * `findDataFault`) is a StorageError (UNSERIALIZABLE) naming the event, the stream and the path.
 */
export function encodeEvent(streamId: string, event: NewEvent): EncodedEvent {
  const fault = prefixed('data', findDataFault(event.data, true, false)) ?? prefixed('meta', findDataFault(event.meta, true, false))
  if (fault) {
    const where = fault.path.length > 0 ? ` at ${fault.path.map(String).join('.')}` : ''
    throw new StorageError(`event "${event.name}" on "${streamId}" cannot be stored as JSON${where}: ${fault.reason}; nothing was stored`, { code: 'UNSERIALIZABLE' })
  }
  return { id: event.id, name: event.name, data: encodeEventData(event.data), schemaVersion: event.schemaVersion, at: event.at, meta: JSON.stringify(event.meta) }
}

function prefixed(key: string, fault: DataFault | undefined): DataFault | undefined {
  fault?.path.unshift(key)
  return fault
}
