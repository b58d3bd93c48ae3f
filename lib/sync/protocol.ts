import type { EventEnvelope, EventMeta, NewEvent } from '../envelope.js'
import type { ExpectedVersion, LeaseState } from '../store/StorageAdapter.js'
import { parseStoredJson } from '../safeData.js'

// The wire format of the sync protocol (docs/sync.md), shared by serveSync and RemoteStore.
// Everything here is plain data and functions: no Node built-ins, so it runs in browsers too.

/** The media types the protocol speaks. */
export const NDJSON = 'application/x-ndjson'
export const SSE = 'text/event-stream'

/** The body of `POST /streams/:id/events`. */
export interface AppendRequest {
  readonly expectedVersion: ExpectedVersion
  readonly events: readonly NewEvent[]
  readonly lease?: { readonly name: string; readonly term: number }
}

/** The answer to an append: the envelopes as stored. */
export interface AppendResponse {
  readonly events: readonly EventEnvelope[]
  readonly alreadyStored: boolean
}

/**
 * The answer to `GET /head`: the highest committed position, and `maxIdBytes` when the server's
 * store takes shorter ids than the default (a RethinkStore: 80), so that a RemoteStore derives
 * names that fit it.
 */
export interface HeadResponse {
  readonly position: number
  readonly maxIdBytes?: number
}

/** The body of `POST /leases/:name`. */
export type LeaseRequest =
  | { readonly op: 'acquire'; readonly owner: string; readonly ttlMs: number; readonly now?: number }
  | { readonly op: 'renew'; readonly owner: string; readonly term: number; readonly ttlMs: number; readonly now?: number }
  | { readonly op: 'release'; readonly owner: string; readonly term: number; readonly now?: number }

/** The answer to a lease request or `GET /leases/:name`. */
export interface LeaseResponse {
  readonly lease: LeaseState | null
}

/**
 * Every refused request answers with this body and a 4xx (5xx when the store failed). `code`
 * is the same string an `OmniscientError` carries; the other fields name what was refused.
 */
export interface ErrorBody {
  readonly error: {
    readonly code: string
    readonly message: string
    readonly [field: string]: unknown
  }
}

/** Paths of the protocol, relative to where the handler is mounted. */
export const paths = {
  head: () => '/head',
  events: () => '/events',
  live: () => '/live',
  stream: (streamId: string) => `/streams/${encodeURIComponent(streamId)}`,
  streamEvents: (streamId: string) => `/streams/${encodeURIComponent(streamId)}/events`,
  lease: (name: string) => `/leases/${encodeURIComponent(name)}`,
} as const

/** JSON.parse for text from the other side: never lets a key reach a prototype (as the stores read theirs). */
export const parseWireJson: (text: string) => unknown = parseStoredJson

// Event data may be `undefined`; JSON drops such a key, so an envelope is rebuilt field by field
// (`data` present and undefined), the same shape every adapter gives back. Meta is frozen, as
// the adapters' is.
/**
 * An envelope as read off the wire; throws a TypeError when the line is not one. `previousMeta`
 * (with its number of keys) is reused instead of a copy when the line's meta equals it.
 */
export function toEnvelope(value: unknown, previousMeta?: EventMeta, previousKeys = 0): EventEnvelope {
  const v = value as Record<string, unknown>
  if (
    typeof v !== 'object' || v === null ||
    typeof v.id !== 'string' || typeof v.streamId !== 'string' || typeof v.name !== 'string' ||
    typeof v.version !== 'number' || typeof v.position !== 'number' || typeof v.schemaVersion !== 'number' || typeof v.at !== 'number'
  ) {
    throw new TypeError(`not an event envelope: ${JSON.stringify(value)?.slice(0, 200)}`)
  }
  return {
    id: v.id,
    streamId: v.streamId,
    version: v.version,
    position: v.position,
    name: v.name,
    data: v.data,
    schemaVersion: v.schemaVersion,
    at: v.at,
    meta: previousMeta !== undefined && typeof v.meta === 'object' && v.meta !== null && sameMeta(v.meta as Record<string, unknown>, previousMeta, previousKeys) ? previousMeta : Object.freeze({ ...(v.meta as EventMeta | undefined) }),
  }
}

/**
 * `toEnvelope` for a run of envelopes read together: consecutive events mostly carry equal
 * metadata (the same actor type), so one frozen meta object is shared while it stays equal,
 * as a store's own read shares it, instead of a copy per event.
 */
export function envelopeReader(): (value: unknown) => EventEnvelope {
  let last: EventMeta | undefined
  let lastKeys = 0
  return (value) => {
    const envelope = toEnvelope(value, last, lastKeys)
    if (envelope.meta !== last) {
      last = envelope.meta
      lastKeys = Object.keys(last).length
    }
    return envelope
  }
}

/** Whether `a` holds exactly `b`'s `keys` plain values (nested objects are never taken as equal). */
function sameMeta(a: Record<string, unknown>, b: EventMeta, keys: number): boolean {
  let n = 0
  for (const key in a) {
    const v = a[key]
    if ((typeof v === 'object' && v !== null) || v !== (b as Record<string, unknown>)[key]) return false
    n++
  }
  return n === keys
}

/**
 * Splits a byte stream into lines as they arrive, without holding more than one partial line.
 * Used for the Server-Sent Events feed (the NDJSON catch-up parses a chunk at a time instead:
 * HttpClient.pages).
 */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader()
  let rest = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      rest += decoder.decode(value, { stream: true })
      let start = 0
      for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n', start)) {
        yield rest.slice(start, nl)
        start = nl + 1
      }
      rest = rest.slice(start)
    }
    rest += decoder.decode()
    if (rest.length > 0) yield rest
  } finally {
    // Cancelling tells the other side we stopped reading (an early break, a closed subscription).
    await reader.cancel().catch(() => undefined)
  }
}
