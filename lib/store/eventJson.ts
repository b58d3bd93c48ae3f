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
