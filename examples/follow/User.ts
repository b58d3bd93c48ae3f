import { Actor, type Container, type EventData } from 'omniscient-actors'
import { FollowEvents } from './FollowEvents.js'

type E = typeof FollowEvents

/** A user: follows others (once each, never itself). */
export class User extends Actor<E, { following: string[] }> {
  static events = FollowEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.following = []
  }

  async Follow(user: string) {
    if (user === this.id) throw new Error(`${this.id} cannot follow itself`)
    if (this._state.following.includes(user)) throw new Error(`${this.id} follows ${user} already`)
    return this.Fire('Followed', { user })
  }

  Followed(data: EventData<E, 'Followed'>) {
    this._state.following.push(data.user)
  }
}
