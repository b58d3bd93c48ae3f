import type { EventData, EventEnvelope } from 'omniscient-actors'
import { ReadModel } from 'omniscient-actors/read'
import { FollowEvents } from './FollowEvents.js'

type E = typeof FollowEvents

/** One document per user. */
export interface Follows {
  readonly followers: readonly string[]
  readonly following: readonly string[]
}

const nobody: Follows = { followers: [], following: [] }

/** Followers and following per user, and the most followed users (an index). */
export class FollowGraph extends ReadModel<E, Follows> {
  static events = FollowEvents
  static version = 1
  static indexes = { followers: (doc: Follows) => doc.followers.length }

  Followed(data: EventData<E, 'Followed'>, event: EventEnvelope) {
    this.update(event.streamId, (doc = nobody) => ({ ...doc, following: [...doc.following, data.user] }))
  }

  WasFollowed(data: EventData<E, 'WasFollowed'>, event: EventEnvelope) {
    this.update(event.streamId, (doc = nobody) => ({ ...doc, followers: [...doc.followers, data.by] }))
  }
}
