import type { EventMeta, NewEvent } from '../envelope.js'
import { StorageError } from '../errors.js'
import { findDataFault, parseStoredJson, type DataFault } from '../safeData.js'

// Event data may be `undefined` (an event with no payload). JSON has no such value, and
// storing it as `null` would hand replay a different value than the one fired; the empty
// string, which is never valid JSON, stands for it instead.

/** Event data as stored text. */
export function encodeEventData(data: unknown): string {
  return data === undefined ? '' : JSON.stringify(data)
}

/** Stored text back to event data. */
export function decodeEventData(text: string): unknown {
  return text === '' ? undefined : parseStoredJson(text)
}

// Events read in a row mostly carry the same metadata text (the same actor type), so the last
// one parsed is kept: a replay parses it once instead of once per event. The object is frozen,
// since every envelope carrying that text shares it.
let lastMetaText = '{}'
let lastMeta: EventMeta = Object.freeze({})

/** Stored text back to event metadata (frozen, possibly shared with other envelopes). */
export function decodeEventMeta(text: string): EventMeta {
  if (text !== lastMetaText) {
    lastMeta = Object.freeze(parseStoredJson(text) as EventMeta)
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
