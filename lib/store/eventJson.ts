import type { EventMeta, NewEvent } from '../envelope.js'
import { StorageError } from '../errors.js'
import { parseStoredJson } from '../safeData.js'

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

/** Encodes an event for storage; what JSON cannot hold is a StorageError (UNSERIALIZABLE) naming the event and stream. */
export function encodeEvent(streamId: string, event: NewEvent): EncodedEvent {
  try {
    return { id: event.id, name: event.name, data: encodeEventData(event.data), schemaVersion: event.schemaVersion, at: event.at, meta: JSON.stringify(event.meta) }
  } catch (err) {
    throw new StorageError(`event "${event.name}" on "${streamId}" cannot be stored as JSON: ${(err as Error).message}`, { cause: err, code: 'UNSERIALIZABLE' })
  }
}
