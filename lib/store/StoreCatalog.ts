import { InvalidArgumentError } from '../errors.js'
import type { LeaseState } from './LeaseState.js'

// What tools (the `omniscient` CLI, the inspector) read about a store as a whole. Adapters
// implement these as optional methods of StorageAdapter; a tool falls back to scanning
// `readAll` for streams when an adapter has none.

/** One stream as listed: its id, current version, and its last event's position and time. */
export interface StreamInfo {
  readonly streamId: string
  readonly version: number
  readonly lastPosition: number
  /** The `at` of the stream's last event (ms since the epoch). */
  readonly lastAt: number
}

/** Options of `listStreams`: streams come in stream id order, a page at a time. */
export interface ListStreamsOptions {
  /** Only ids containing this text (case-sensitive). */
  readonly contains?: string
  /** Only ids after this one (the last id of the previous page). */
  readonly after?: string
  /** At most this many (default 100). */
  readonly limit?: number
}

/** A named projection's or process manager's checkpoint, as stored. */
export interface CheckpointState {
  readonly name: string
  readonly position: number
}

/**
 * The store-wide reads an adapter may offer to tools. Every method is optional on
 * StorageAdapter; spec/store/storeCatalog.ts checks those an adapter has.
 *
 * @example
 * const page = await store.listStreams?.({ contains: 'user-', limit: 50 })
 */
export interface StoreCatalog {
  /** Streams in id order, with their versions and last event. */
  listStreams(options?: ListStreamsOptions): Promise<readonly StreamInfo[]>
  /** Every lease ever taken, free or held, by name. */
  listLeases(): Promise<readonly LeaseState[]>
  /** Every checkpoint, by name. */
  listCheckpoints(): Promise<readonly CheckpointState[]>
}

/** The default page size of `listStreams`. */
export const DEFAULT_STREAM_PAGE = 100
/** The largest page `listStreams` returns. */
export const MAX_STREAM_PAGE = 10_000

/**
 * Checks `listStreams`' options the same way on every engine and fills in the defaults:
 * `limit` a whole number from 1 to 10,000; `contains` and `after` strings without NUL (which
 * PostgreSQL text cannot hold).
 */
export function checkListStreams(options: ListStreamsOptions = {}): Required<ListStreamsOptions> {
  const limit = options.limit ?? DEFAULT_STREAM_PAGE
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STREAM_PAGE) {
    throw new InvalidArgumentError('listStreams limit', limit, `must be a whole number from 1 to ${MAX_STREAM_PAGE}`)
  }
  for (const key of ['contains', 'after'] as const) {
    const value: unknown = options[key]
    if (value !== undefined && (typeof value !== 'string' || value.includes('\0'))) {
      throw new InvalidArgumentError(`listStreams ${key}`, value, 'must be a string without NUL')
    }
  }
  return { limit, contains: options.contains ?? '', after: options.after ?? '' }
}
