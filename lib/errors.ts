import type { z } from 'zod'

// Shared by every copy of the package loaded in one realm (a bundle beside node_modules, two
// versions in a monorepo, a dynamic import beside a static one): Symbol.for is realm-wide.
const LINEAGE = Symbol.for('omniscient-actors.error.lineage')

/**
 * Every error the framework throws is an `OmniscientError` with a stable string `code`,
 * so callers can branch on `err.code` without parsing messages.
 *
 * `instanceof` works across copies of the package: an error carries the names of its classes
 * (`['ConcurrencyError', 'OmniscientError']`) under a `Symbol.for` key, and each class
 * recognises an error of its name made by another copy. Class names survive copies but not a
 * minifier that renames classes; `code` survives everything.
 *
 * @example
 * try { await user.Fire('signup', data) }
 * catch (err) { if (isOmniscientError(err) && err.code === 'CONCURRENCY') retry() }
 */
export class OmniscientError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    Object.defineProperty(this, LINEAGE, { value: lineage(new.target) })
  }

  /** Its own instances, and those of the class of the same name from another copy of the package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true
    const names = typeof value === 'object' && value !== null ? (value as { [LINEAGE]?: unknown })[LINEAGE] : undefined
    return Array.isArray(names) && names.includes(this.name)
  }
}

function lineage(target: unknown): readonly string[] {
  const names: string[] = []
  for (let c = target as { name?: unknown } | null; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c) as typeof c) {
    if (typeof c.name === 'string' && c.name !== '') names.push(c.name)
  }
  return Object.freeze(names)
}

/** @example if (isOmniscientError(err)) console.log(err.code) */
export function isOmniscientError(err: unknown): err is OmniscientError {
  return err instanceof OmniscientError
}

/**
 * An append expected the stream at one version and found it at another. Nothing was stored.
 *
 * @example
 * catch (err) { if (isConcurrencyError(err)) console.log(err.expectedVersion, err.actualVersion) }
 */
export class ConcurrencyError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      'CONCURRENCY',
      `stream "${streamId}": expected version ${expectedVersion}, but the store is at version ${actualVersion}; nothing was stored`,
    )
  }
}

/** @example if (isConcurrencyError(err)) await actor.Load() */
export function isConcurrencyError(err: unknown): err is ConcurrencyError {
  return err instanceof ConcurrencyError
}

/** One problem with an event's data, in zod's words, with the path of the field. */
export interface EventIssue {
  readonly path: readonly PropertyKey[]
  readonly message: string
  readonly code: string
}

/**
 * An event was refused before anything was applied or stored: its name is unknown to the
 * actor class, or its data does not match the schema. `issues` keeps zod's findings.
 *
 * @example
 * catch (err) { if (err instanceof EventValidationError) console.log(err.eventName, err.issues[0]?.path) }
 */
export class EventValidationError extends OmniscientError {
  constructor(
    readonly eventName: string,
    readonly issues: readonly EventIssue[],
    detail?: string,
  ) {
    super(
      'EVENT_VALIDATION',
      `event "${eventName}" is invalid: ${detail ?? issues.map(formatIssue).join('; ')}`,
    )
  }

  /** Wraps a zod error, keeping each issue's path, code and message. */
  static fromZod(eventName: string, error: z.ZodError): EventValidationError {
    return new EventValidationError(
      eventName,
      error.issues.map((issue) => ({ path: issue.path, message: issue.message, code: issue.code })),
    )
  }
}

function formatIssue(issue: EventIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(the data itself)'
  return `${field}: ${issue.message}`
}

/**
 * The actor class has no definition for the event name it was asked to fire.
 *
 * @example
 * catch (err) { if (err instanceof UnknownEventError) console.log(err.known) }
 */
export class UnknownEventError extends EventValidationError {
  constructor(
    eventName: string,
    readonly actorType: string,
    readonly known: readonly string[],
  ) {
    super(eventName, [], `${actorType} defines no event of that name (it defines: ${known.join(', ') || 'none'})`)
    Object.defineProperty(this, 'code', { value: 'UNKNOWN_EVENT' })
  }
}

/**
 * The storage engine failed or returned something it should not have. The engine's own error
 * is kept as `cause`.
 *
 * @example
 * catch (err) { if (err instanceof StorageError) console.error(err.code, err.cause) }
 */
export class StorageError extends OmniscientError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'STORAGE', message, options)
  }
}

/**
 * The store was closed: every call made after its `close()` rejects with this, on every
 * adapter, and nothing is read or stored. `store` names the store (`SqliteStore "app.db"`).
 * A RemoteStore also rejects the appends still waiting for its server when it closes: they stay
 * queued in its local copy and are sent at its next start.
 *
 * @example
 * catch (err) { if (isStoreClosedError(err)) return; throw err }
 */
export class StoreClosedError extends StorageError {
  constructor(
    readonly store: string,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`${store} is closed${detail === undefined ? '' : `: ${detail}`}`, { ...options, code: 'STORE_CLOSED' })
  }
}

/** @example if (isStoreClosedError(err)) stopWorking() */
export function isStoreClosedError(err: unknown): err is StoreClosedError {
  return isOmniscientError(err) && err.code === 'STORE_CLOSED'
}

/**
 * A batch mixed ids that are already stored with new ones, or reused a stored id on another
 * stream: a retry must resend exactly what it sent before.
 *
 * @example
 * catch (err) { if (err instanceof IdempotencyError) console.log(err.eventId) }
 */
export class IdempotencyError extends StorageError {
  constructor(
    readonly eventId: string,
    reason: string,
  ) {
    super(`event id "${eventId}": ${reason}`, { code: 'IDEMPOTENCY' })
  }
}

/**
 * A stored snapshot could not be read back. Load reports it and replays the stream instead.
 *
 * @example
 * container.onError = (err) => { if (err instanceof SnapshotCorruptError) metrics.count(err.streamId) }
 */
export class SnapshotCorruptError extends StorageError {
  constructor(
    readonly actorType: string,
    readonly streamId: string,
    cause: unknown,
  ) {
    super(`snapshot of ${actorType} "${streamId}" is unreadable; the stream is replayed instead`, {
      cause,
      code: 'SNAPSHOT_CORRUPT',
    })
  }
}

/**
 * An event handler threw while the actor was applying an event. When this happens during
 * `Fire`, nothing is stored and the actor is reloaded from the store.
 *
 * @example
 * catch (err) { if (err instanceof HandlerError) console.log(err.eventName, err.cause) }
 */
export class HandlerError extends OmniscientError {
  constructor(
    readonly actorType: string,
    readonly streamId: string,
    readonly eventName: string,
    readonly version: number,
    cause: unknown,
  ) {
    super(
      'HANDLER',
      `${actorType} "${streamId}" failed to apply "${eventName}" at version ${version}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    )
  }
}

/**
 * A write was made under a leader term that is no longer current: the writer has been
 * deposed and must step down. `expiredAt` is set when the holder itself refused the write,
 * its lease having expired by its own clock at that time: nothing was sent to the store.
 *
 * @example
 * catch (err) { if (err instanceof LeaseLostError) becomeFollower() }
 */
export class LeaseLostError extends OmniscientError {
  constructor(
    readonly lease: string,
    readonly term: number,
    readonly currentTerm: number,
    readonly expiredAt?: number,
  ) {
    super(
      'LEASE_LOST',
      expiredAt === undefined
        ? `lease "${lease}": term ${term} is over (current term ${currentTerm}); the write was refused`
        : `lease "${lease}": term ${term} expired at its holder (at ${expiredAt} by its clock); the write was not sent`,
    )
  }
}

/**
 * A `Fire` with a precondition was dropped: the condition did not hold on the actor's state
 * (for a LiveActor, possibly after other writers' events were applied first). Nothing was
 * stored.
 *
 * @example
 * await seat.Fire('reserved', { by }, { precondition: (s) => s.free > 0 }).catch((err) => {
 *   if (err instanceof PreconditionFailedError) return 'sold out'
 *   throw err
 * })
 */
export class PreconditionFailedError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly eventName: string,
    readonly version: number,
  ) {
    super('PRECONDITION_FAILED', `"${eventName}" on "${streamId}" was not fired: its precondition does not hold at version ${version}`)
  }
}

/**
 * The leader refused a OneActor proposal: its data was invalid or its handler threw there.
 * Nothing was stored.
 *
 * @example
 * catch (err) { if (err instanceof ProposalRejectedError) console.log(err.reasonCode, err.message) }
 */
export class ProposalRejectedError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    readonly reasonCode: string,
    reason: string,
  ) {
    super('PROPOSAL_REJECTED', `the leader of "${streamId}" rejected event ${eventId}: ${reason}`)
  }
}

/**
 * No leader committed or rejected a OneActor proposal in time. It may still be committed
 * later: retry with `Fire(name, data, { id: err.eventId })` and it is stored at most once.
 *
 * @example
 * catch (err) { if (err instanceof ProposalTimeoutError) await actor.Fire(name, data, { id: err.eventId }) }
 */
export class ProposalTimeoutError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
    readonly waitedMs: number,
  ) {
    super('PROPOSAL_TIMEOUT', `no leader of "${streamId}" answered proposal ${eventId} within ${waitedMs} ms; retry with the same id to stay idempotent`)
  }
}

/**
 * An actor class has a method one edit away from one of its event names: most likely a
 * misspelt handler, which would never be called (the events are stored, the state never
 * changes). Reported once per class and container, through the container's `report`; a
 * Given/When/Then scenario fails on it.
 *
 * @example
 * createContainer({ report: (err) => { if (isOmniscientError(err) && err.code === 'MISSPELT_HANDLER') throw err } })
 */
export class MisspeltHandlerError extends OmniscientError {
  constructor(
    readonly actorType: string,
    readonly method: string,
    readonly eventName: string,
  ) {
    super(
      'MISSPELT_HANDLER',
      `${actorType} has a method "${method}", one edit away from its event "${eventName}": a handler must be named exactly after its event, so "${method}" is never called`,
    )
  }
}

/**
 * A store method was called with an argument no engine may be given: a stream or event id that
 * is empty, too long, not well-formed Unicode or holds NUL; an `expectedVersion` that is not
 * `'any'` or a non-negative integer; an `at` that is not an integer... Checked before the engine
 * sees anything, the same way on every adapter; nothing was stored. `argument` names the
 * argument (`events[2].id`).
 *
 * @example
 * catch (err) { if (err instanceof InvalidArgumentError) console.log(err.argument, err.reason) }
 */
export class InvalidArgumentError extends StorageError {
  constructor(
    readonly argument: string,
    value: unknown,
    readonly reason: string,
  ) {
    super(`${argument} ${reason}; got ${describeValue(value)}; nothing was stored`, { code: 'INVALID_ARGUMENT' })
  }
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'object' && value !== null) return 'an object'
  return String(value)
}

/**
 * Event data holds something JSON cannot keep, so replay would not give back what was fired:
 * a BigInt, a cycle, nesting deeper than `MAX_DATA_DEPTH` (64), a function or symbol, `NaN` or
 * `Infinity`, a Map, Set or other non-plain object. Refused before anything is applied or
 * stored; `path` says where (`[]` is the data itself).
 *
 * @example
 * catch (err) { if (err instanceof UnserializableDataError) console.log(err.path, err.reason) }
 */
export class UnserializableDataError extends EventValidationError {
  constructor(
    eventName: string,
    readonly path: readonly PropertyKey[],
    readonly reason: string,
  ) {
    super(eventName, [{ path, code: 'not_json', message: reason }])
    Object.defineProperty(this, 'code', { value: 'UNSERIALIZABLE' })
  }
}

/**
 * A constructor or `createContainer` was given options it does not know (a misspelt name would
 * otherwise be ignored: `storage` for `store` ran on a MemoryStore), or lacks one it needs.
 * `known` lists the names it takes.
 *
 * @example
 * catch (err) { if (err instanceof InvalidOptionsError) console.log(err.unknown, err.known) }
 */
export class InvalidOptionsError extends OmniscientError {
  constructor(
    readonly owner: string,
    readonly unknown: readonly string[],
    readonly known: readonly string[],
    detail?: string,
  ) {
    super(
      'INVALID_OPTIONS',
      `${owner}: ${detail ?? `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`}; the options it takes are ${known.join(', ')}`,
    )
  }
}

/**
 * An entry point needs an engine's driver that is not installed. The drivers (`pg`,
 * `rethinkdb-ts`) are optional peer dependencies: only those who use the engine install them.
 * The message is one line that says what to install.
 *
 * @example
 * catch (err) { if (err instanceof DriverMissingError) console.error(err.message) } // ...: npm install pg
 */
export class DriverMissingError extends OmniscientError {
  constructor(
    readonly driver: string,
    readonly entryPoint: string,
  ) {
    super('DRIVER_MISSING', `${entryPoint} needs the ${driver} package, which is not installed: npm install ${driver}`)
  }
}

/**
 * A stored event could not be decoded: its data or its metadata is not valid JSON (or the
 * metadata is not an object). Reads stop at it: `Load` rejects with it, and a live follower or
 * listener that meets it reports it, says so in its `Stuck` status and retries until the row is
 * repaired. Nothing skips the row, since every later state would be built without it.
 *
 * @example
 * catch (err) { if (err instanceof EventDecodeError) console.error(err.streamId, err.version, err.position, err.field) }
 */
export class EventDecodeError extends StorageError {
  constructor(
    readonly streamId: string,
    readonly version: number,
    readonly position: number,
    readonly field: 'data' | 'meta',
    cause: unknown,
  ) {
    super(
      `the stored event at version ${version} of "${streamId}" (position ${position}) cannot be decoded: its ${field} ${cause instanceof Error ? `is not valid JSON (${cause.message})` : String(cause)}`,
      { cause, code: 'EVENT_DECODE' },
    )
  }
}

/**
 * A stored snapshot is readable but cannot be true: its version is not a positive whole number,
 * or is past the stream's head. Load reports it, ignores it and replays the stream.
 *
 * @example
 * container.report = (err) => { if (err instanceof SnapshotInvalidError) console.warn(err.snapshotVersion, err.streamVersion) }
 */
export class SnapshotInvalidError extends StorageError {
  constructor(
    readonly actorType: string,
    readonly streamId: string,
    /** The stream version the snapshot claims to include. */
    readonly snapshotVersion: unknown,
    /** The stream's version in the store when the snapshot was checked. */
    readonly streamVersion: number,
  ) {
    super(
      `snapshot of ${actorType} "${streamId}" claims version ${String(snapshotVersion)}, but ${
        typeof snapshotVersion === 'number' && Number.isInteger(snapshotVersion) && snapshotVersion > 0
          ? `the stream is at version ${streamVersion}`
          : 'a snapshot version must be a positive whole number'
      }; it is ignored and the stream replayed`,
      { code: 'SNAPSHOT_INVALID' },
    )
  }
}

/**
 * The end of a run of failures of something the framework retries on its own (a live
 * subscription, a listener's handler, a reload): the first failure of the run was reported
 * when it happened, the others were only counted, and this reports how many there were.
 *
 * @example
 * createContainer({ report: (err, { where }) => {
 *   if (err instanceof OutageError) metrics.gauge(where, err.failures)
 * } })
 */
export class OutageError extends OmniscientError {
  constructor(
    /** What kept failing, as in the error report's `where`. */
    readonly where: string,
    /** How many attempts failed in a row. */
    readonly failures: number,
    /** How long the run lasted, in ms. */
    readonly lastedMs: number,
    /** The last failure of the run. */
    cause: unknown,
  ) {
    super(
      'OUTAGE',
      `${where}: ${failures} attempts failed in a row over ${lastedMs} ms (the last: ${cause instanceof Error ? cause.message : String(cause)}); it works again`,
      { cause },
    )
  }
}
