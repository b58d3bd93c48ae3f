import type { EventEnvelope } from '../../envelope.js'
import type { StorageAdapter } from '../StorageAdapter.js'
import { decodeEventData, decodeEventMeta } from './eventJson.js'

/**
 * One event as the store holds it: data and meta as the JSON text `append` wrote ('' data: no
 * data). Every engine that keeps rows reads them in this shape (MemoryStore, SqliteStore and
 * PgStore name their columns after these fields).
 */
export interface StoredEventText {
  readonly position: number
  readonly id: string
  readonly streamId: string
  readonly version: number
  readonly name: string
  readonly data: string
  readonly schemaVersion: number
  readonly at: number
  readonly meta: string
}

/**
 * A store that hands out its rows' stored JSON text by position, so a server can send events
 * on without decoding and encoding them again (the sync server's catch-up). Optional: a server
 * falls back to `readAll` for stores without it.
 */
export interface StoredTextReader {
  /** Up to `limit` events from `fromPosition` on, in position order; fewer means the end. */
  readStoredText(fromPosition: number, limit: number): Promise<readonly StoredEventText[]>
}

/** Whether `store` offers `readStoredText`. */
export function readsStoredText(store: StorageAdapter): store is StorageAdapter & StoredTextReader {
  return typeof (store as Partial<StoredTextReader>).readStoredText === 'function'
}

/**
 * A stored row back to its envelope, decoding data and meta (EventDecodeError naming the row when
 * either is damaged). Built field by field, in one order, so every envelope has one shape.
 */
export function envelopeFromText(row: StoredEventText): EventEnvelope {
  return {
    id: row.id,
    streamId: row.streamId,
    version: row.version,
    position: row.position,
    name: row.name,
    data: decodeEventData(row.data, row.streamId, row.version, row.position),
    schemaVersion: row.schemaVersion,
    at: row.at,
    meta: decodeEventMeta(row.meta, row.streamId, row.version, row.position),
  }
}
