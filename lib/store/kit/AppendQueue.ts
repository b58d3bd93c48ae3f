import type { NewEvent } from '../../envelope.js'
import { OmniscientError } from '../../errors.js'
import type { AppendOptions, AppendResult, StorageAdapter } from '../StorageAdapter.js'

/**
 * What a StorageAdapter whose appends wait in a local queue before a server orders them (a
 * `RemoteStore`) offers beyond the contract, so that a LiveActor can show several unacknowledged
 * Fires at once as its prediction (docs/sync.md, "Pending Fires").
 */
export interface AppendQueue {
  /**
   * Like `append`, but queued (durably where the queue is) at once and sent after the earlier
   * `appendInOrder` calls on the same stream, one at a time. With `after` (the promise of an
   * earlier append it was made on top of), it is not sent when that one was refused: it then
   * rejects with `AppendNotSentError` and leaves the queue.
   */
  appendInOrder(streamId: string, events: readonly NewEvent[], options: AppendOptions, after?: Promise<unknown>): Promise<AppendResult>
  /**
   * The appends to `streamId` that a previous run left queued and that are being sent again now,
   * oldest first, each with its outcome (stored, or the refusal).
   */
  leftovers(streamId: string): Promise<readonly LeftoverAppend[]>
  /**
   * An `appendInOrder` refused with `ConcurrencyError` or `AppendNotSentError` stays in the
   * queue (a crash before it is sent again loses nothing) until an `appendInOrder` of the same
   * event id replaces it, or until this is called for that id: the caller gave it up.
   */
  forget(eventId: string): Promise<void>
  /** False while the store's server cannot be reached (reads then come from a local copy). */
  readonly reachable: boolean
}

/** An append a previous run queued, being sent again. */
export interface LeftoverAppend {
  readonly events: readonly NewEvent[]
  readonly outcome: Promise<AppendResult>
}

/** Whether `store` queues its appends (see AppendQueue). */
export function queuesAppends(store: StorageAdapter): store is StorageAdapter & AppendQueue {
  const s = store as Partial<AppendQueue>
  return typeof s.appendInOrder === 'function' && typeof s.leftovers === 'function' && typeof s.forget === 'function'
}

/**
 * An append made on top of another that was refused (`appendInOrder`'s `after`): it was not
 * sent, and nothing of it was stored.
 *
 * @example
 * catch (err) { if (err instanceof AppendNotSentError) resendOnTopOfTheServerState() }
 */
export class AppendNotSentError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly eventId: string,
  ) {
    super('NOT_SENT', `event "${eventId}" on stream "${streamId}" was not sent: an append queued before it on that stream was refused; nothing of it was stored`)
  }
}
