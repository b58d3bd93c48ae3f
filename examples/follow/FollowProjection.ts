import type { EventData, EventEnvelope } from 'omniscient-actors'
import { Projection, type Derived } from 'omniscient-actors/read'
import { FollowEvents } from './FollowEvents.js'

type E = typeof FollowEvents

/** "alice Followed bob" on alice's stream derives "bob WasFollowed by alice" on bob's. */
export class FollowProjection extends Projection<E, E> {
  static events = FollowEvents
  static derives = FollowEvents

  Followed(data: EventData<E, 'Followed'>, event: EventEnvelope): Derived<E>[] {
    return [{ streamId: data.user, name: 'WasFollowed', data: { by: event.streamId } }]
  }
}
