import {
  ConcurrencyError,
  EventValidationError,
  IdempotencyError,
  InvalidArgumentError,
  LeaseLostError,
  OmniscientError,
  SnapshotCorruptError,
  StorageError,
  UnknownEventError,
  type EventIssue,
} from '../errors.js'
import { SyncAccessError, SyncRequestError, type SyncAction } from './errors.js'
import type { ErrorBody } from './protocol.js'

// Errors cross the wire as `{ error: { code, message, ...fields } }` and come back as the same
// classes, so code written against a local store handles a remote one's errors unchanged.

/** The HTTP status and JSON body an error is sent as. Errors the client need not know are 500. */
export function errorToWire(err: unknown): { status: number; body: ErrorBody } {
  const body = (code: string, message: string, fields: Record<string, unknown> = {}): ErrorBody => ({ error: { ...fields, code, message } })
  if (err instanceof ConcurrencyError) {
    return { status: 409, body: body(err.code, err.message, { streamId: err.streamId, expectedVersion: err.expectedVersion, actualVersion: err.actualVersion }) }
  }
  if (err instanceof IdempotencyError) return { status: 409, body: body(err.code, err.message, { eventId: err.eventId }) }
  if (err instanceof LeaseLostError) return { status: 409, body: body(err.code, err.message, { lease: err.lease, term: err.term, currentTerm: err.currentTerm }) }
  if (err instanceof UnknownEventError) return { status: 422, body: body(err.code, err.message, { eventName: err.eventName, actorType: err.actorType, known: err.known }) }
  if (err instanceof EventValidationError) {
    const issues = err.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), code: i.code, message: i.message }))
    return { status: 422, body: body(err.code, err.message, { eventName: err.eventName, issues }) }
  }
  if (err instanceof SyncAccessError) {
    return { status: err.code === 'UNAUTHENTICATED' ? 401 : 403, body: body(err.code, err.message, { action: err.action, streamId: err.streamId, eventName: err.eventName }) }
  }
  if (err instanceof SyncRequestError) return { status: err.status, body: body(err.code, err.message) }
  if (err instanceof SnapshotCorruptError) return { status: 500, body: body(err.code, err.message, { actorType: err.actorType, streamId: err.streamId }) }
  // Caller mistakes the store itself refuses (an empty batch, data JSON cannot hold).
  if (err instanceof InvalidArgumentError) return { status: 400, body: body(err.code, err.message, { argument: err.argument, reason: err.reason }) }
  if (err instanceof StorageError && ['EMPTY_BATCH', 'INVALID_STREAM_ID', 'UNSERIALIZABLE'].includes(err.code)) {
    return { status: 400, body: body(err.code, err.message) }
  }
  // Anything else is the server's own failure: its insides stay on the server.
  return { status: 503, body: body('STORAGE', 'the sync server failed to serve the request; try again') }
}

/** The error a response carries, as the class the server threw. */
export function errorFromWire(status: number, value: unknown): OmniscientError {
  const e = (value as Partial<ErrorBody> | undefined)?.error
  if (!e || typeof e.code !== 'string') return new SyncRequestError('BAD_RESPONSE', status, `the sync server answered ${status} without a protocol error body`)
  const f = e as Record<string, unknown>
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k]) : undefined)
  const num = (k: string) => (typeof f[k] === 'number' ? (f[k]) : 0)
  switch (e.code) {
    case 'CONCURRENCY':
      return new ConcurrencyError(str('streamId') ?? '', num('expectedVersion'), num('actualVersion'))
    case 'IDEMPOTENCY':
      return withMessage(new IdempotencyError(str('eventId') ?? '', ''), e.message)
    case 'LEASE_LOST':
      return new LeaseLostError(str('lease') ?? '', num('term'), num('currentTerm'))
    case 'UNKNOWN_EVENT':
      return withMessage(new UnknownEventError(str('eventName') ?? '', str('actorType') ?? 'the server', (f.known as string[] | undefined) ?? []), e.message)
    case 'EVENT_VALIDATION':
      return withMessage(new EventValidationError(str('eventName') ?? '', (f.issues as EventIssue[] | undefined) ?? []), e.message)
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return new SyncAccessError(e.code, str('action') as SyncAction | undefined, str('streamId'), str('eventName'), e.message)
    case 'SNAPSHOT_CORRUPT':
      return new SnapshotCorruptError(str('actorType') ?? '', str('streamId') ?? '', new Error(e.message))
    case 'INVALID_ARGUMENT':
      return withMessage(new InvalidArgumentError(str('argument') ?? '', undefined, str('reason') ?? ''), e.message)
    case 'STORAGE':
    case 'EMPTY_BATCH':
    case 'INVALID_STREAM_ID':
    case 'UNSERIALIZABLE':
      return new StorageError(e.message, { code: e.code })
    default:
      return new SyncRequestError(e.code, status, e.message)
  }
}

// Rebuilt errors keep the server's message word for word.
function withMessage<T extends Error>(err: T, message: string): T {
  Object.defineProperty(err, 'message', { value: message, writable: true, configurable: true })
  return err
}
