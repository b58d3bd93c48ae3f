import type { NewEvent } from '../../envelope.js'
import { IdempotencyError, InvalidArgumentError } from '../../errors.js'
import type { AppendOptions, ReadAllOptions, ReadStreamOptions } from '../StorageAdapter.js'

// The arguments of the StorageAdapter methods, checked by every adapter before its engine sees
// them, with one set of rules, so that a bad call answers the same on every engine and can
// never fail the other appends of a group commit. Each check is a few comparisons: they run on
// every append.

/**
 * Longest stream id, event id, event name, lease name, lease owner or checkpoint name, in UTF-8
 * bytes. The engines index these as text, and PostgreSQL refuses an index entry past about
 * 2.7 KB; 256 bytes leaves room for every engine's key overhead. RethinkStore allows less
 * (its primary keys hold at most 127 bytes; see `RETHINK_MAX_ID_BYTES`).
 */
export const MAX_ID_BYTES = 256

/** Versions and terms are 32-bit integers on PostgreSQL and RethinkDB's keys; the limit everywhere. */
export const MAX_SCHEMA_VERSION = 2_147_483_647

// A high surrogate not followed by a low one, or a low one not preceded by a high one. (What
// String.prototype.isWellFormed answers, in browsers that predate it too.)
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Refuses what no engine may store as an identifier: not a string, empty, longer than
 * `maxBytes` in UTF-8, not well-formed Unicode (a lone surrogate: PostgreSQL would store U+FFFD
 * instead, so two ids would become one), or holding NUL (PostgreSQL text cannot).
 */
export function checkIdentifier(value: unknown, argument: string, maxBytes = MAX_ID_BYTES): asserts value is string {
  if (typeof value !== 'string') throw new InvalidArgumentError(argument, value, 'must be a string')
  if (value.length === 0) throw new InvalidArgumentError(argument, value, 'must not be empty')
  if (LONE_SURROGATE.test(value)) throw new InvalidArgumentError(argument, value, 'must be well-formed Unicode (it holds a lone surrogate)')
  if (value.includes('\0')) throw new InvalidArgumentError(argument, value, 'must not hold a NUL character')
  // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair is 4 for 2): most ids need no count.
  if (value.length * 3 > maxBytes && utf8Length(value) > maxBytes) {
    throw new InvalidArgumentError(argument, value, `must be at most ${maxBytes} bytes in UTF-8 (it is ${utf8Length(value)})`)
  }
}

/** Refuses anything but a safe integer of at least `min`. */
export function checkInteger(value: unknown, argument: string, min = 0, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, value, `must be an integer from ${min} to ${max}`)
  }
}

/**
 * Checks an append's arguments: a stream id, a non-empty batch of well-formed events with
 * distinct ids, and options with an `expectedVersion` of `'any'` or a non-negative integer.
 * Event data and meta are checked when they are encoded (see eventJson.ts).
 */
export function checkAppend(streamId: unknown, events: unknown, options: unknown, maxIdBytes = MAX_ID_BYTES): void {
  checkIdentifier(streamId, 'streamId', maxIdBytes)
  if (!Array.isArray(events)) throw new InvalidArgumentError('events', events, `append to "${streamId}": must be an array of events`)
  if (events.length === 0) throw new InvalidArgumentError('events', events, `append to "${streamId}": the batch is empty`)
  for (let i = 0; i < events.length; i++) checkEvent(events[i], `events[${i}]`, maxIdBytes)
  checkDistinctIds(events as NewEvent[])
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', options, 'must be an object with expectedVersion')
  const { expectedVersion, lease } = options as AppendOptions
  if (expectedVersion !== 'any') checkInteger(expectedVersion, 'options.expectedVersion')
  if (lease !== undefined) {
    if (typeof lease !== 'object' || lease === null) throw new InvalidArgumentError('options.lease', lease, 'must be { name, term }')
    checkIdentifier(lease.name, 'options.lease.name', maxIdBytes)
    checkInteger(lease.term, 'options.lease.term')
  }
}

/** Refuses a batch that holds one id twice (IdempotencyError): it could never be stored once. */
export function checkDistinctIds(events: readonly NewEvent[]): void {
  if (events.length < 2) return
  const ids = new Set<string>()
  for (const event of events) {
    if (ids.has(event.id)) throw new IdempotencyError(event.id, 'appears twice in one batch')
    ids.add(event.id)
  }
}

/**
 * Refuses an event no engine may store: id and name as identifiers (the id within `maxIdBytes`),
 * a schema version from 1, an integer `at`, an object `meta`. The one rule for events coming
 * in, whether from an actor, an import or a sync client.
 */
export function checkEvent(event: unknown, argument: string, maxIdBytes = MAX_ID_BYTES): asserts event is NewEvent {
  if (typeof event !== 'object' || event === null) throw new InvalidArgumentError(argument, event, 'must be an event object')
  const e = event as NewEvent
  checkIdentifier(e.id, `${argument}.id`, maxIdBytes)
  checkIdentifier(e.name, `${argument}.name`)
  checkInteger(e.schemaVersion, `${argument}.schemaVersion`, 1, MAX_SCHEMA_VERSION)
  checkInteger(e.at, `${argument}.at`, Number.MIN_SAFE_INTEGER)
  if (typeof e.meta !== 'object' || e.meta === null || Array.isArray(e.meta)) throw new InvalidArgumentError(`${argument}.meta`, e.meta, 'must be an object')
}

/** Checks `readStream`'s arguments (and `streamVersion`'s, without options). */
export function checkReadStream(streamId: unknown, options: ReadStreamOptions | undefined, maxIdBytes = MAX_ID_BYTES): void {
  checkIdentifier(streamId, 'streamId', maxIdBytes)
  if (options?.fromVersion !== undefined) checkInteger(options.fromVersion, 'options.fromVersion')
  if (options?.toVersion !== undefined) checkInteger(options.toVersion, 'options.toVersion')
}

/** Checks `readAll`'s options. */
export function checkReadAll(options: ReadAllOptions | undefined): void {
  if (options?.fromPosition !== undefined) checkInteger(options.fromPosition, 'options.fromPosition')
}

/** Checks the arguments every lease method shares; `term` and `ttlMs` where the method has them. */
export function checkLease(name: unknown, owner: unknown, now: unknown, extra: { term?: unknown; ttlMs?: unknown } = {}, maxIdBytes = MAX_ID_BYTES): void {
  checkIdentifier(name, 'name', maxIdBytes)
  checkIdentifier(owner, 'owner')
  checkInteger(now, 'now')
  if ('term' in extra) checkInteger(extra.term, 'term')
  if ('ttlMs' in extra) checkInteger(extra.ttlMs, 'ttlMs')
}

/** Checks a checkpoint's name and, when saving, its position. */
export function checkCheckpoint(name: unknown, position?: unknown, maxIdBytes = MAX_ID_BYTES): void {
  checkIdentifier(name, 'name', maxIdBytes)
  if (position !== undefined) checkInteger(position, 'position')
}

/** The length of `text` in UTF-8 bytes (`text` well-formed). */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    // A surrogate pair (well-formed here) is 4 bytes: 2 for each half.
    bytes += unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 2 : 3
  }
  return bytes
}
