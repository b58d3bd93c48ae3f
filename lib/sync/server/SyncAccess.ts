import type { EventEnvelope } from '../../envelope.js'
import { checkIdentifier } from '../../store/kit/arguments.js'
import { SyncAccessError, type SyncAction } from '../errors.js'

/** One question to the `authorize` hook: may `user` do `action` (on this stream, event, lease)? */
export interface SyncPermission<U> {
  readonly user: U
  readonly action: SyncAction
  /**
   * The stream read or appended to. Absent on a `read` of the log's head (`GET /head`, which
   * says how many events the whole log holds) and on `lease`.
   */
  readonly streamId?: string
  /**
   * The event read or appended. Absent when a whole stream is asked for before its events are
   * read, and on an empty append (refused by the store after the stream is allowed).
   */
  readonly eventName?: string
  /** The lease asked for (action `lease`, or an append fenced by it). */
  readonly lease?: string
}

/** Whether one event may be read; answered from memory once its stream and name were asked. */
export type ReadFilter = ((event: Pick<EventEnvelope, 'streamId' | 'name'>) => boolean | Promise<boolean>) & {
  /** Forgets every answer: the next event of each stream and name is asked again. */
  forget(): void
}

/** The `authorize` hook asked the ways the sync server's requests need. */
export class SyncAccess<U> {
  constructor(private readonly authorize: (permission: SyncPermission<U>) => boolean | Promise<boolean>) {}

  /** Only `true` allows: a hook that answers anything else refuses. */
  async allowed(permission: SyncPermission<U>): Promise<boolean> {
    return (await this.authorize(permission)) === true
  }

  /** Throws FORBIDDEN (403) unless allowed. */
  async demand(permission: SyncPermission<U>): Promise<void> {
    if (!(await this.allowed(permission))) throw new SyncAccessError('FORBIDDEN', permission.action, permission.streamId, permission.eventName)
  }

  /**
   * A read of one stream: the id is checked first, as the store would check it, so that a bad
   * one is a 400 before an answer has begun (a streamed answer can only be cut off).
   */
  async demandRead(user: U, streamId: string): Promise<void> {
    checkIdentifier(streamId, 'streamId')
    await this.demand({ user, action: 'read', streamId })
  }

  /** A read filter for one request: asks once per stream and event name, then answers from memory. */
  readFilter(user: U): ReadFilter {
    const known = new Map<string, boolean>()
    const filter = (event: Pick<EventEnvelope, 'streamId' | 'name'>) => {
      const key = `${event.streamId}\u0000${event.name}`
      const cached = known.get(key)
      if (cached !== undefined) return cached
      return this.allowed({ user, action: 'read', streamId: event.streamId, eventName: event.name }).then((ok) => {
        // Bounded: a feed over millions of streams must not grow without end.
        if (known.size > 10_000) known.clear()
        known.set(key, ok)
        return ok
      })
    }
    return Object.assign(filter, { forget: () => known.clear() })
  }
}
