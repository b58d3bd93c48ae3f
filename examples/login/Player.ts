import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData } from 'omniscient-actors'
import { paymentEvents } from './UserEvents.js'

/** Every this many units paid buys one life. */
export const PRICE_OF_A_LIFE = 5

export const PlayerEvents = defineEvents({
  ...paymentEvents,
  life_lost: z.object({ cause: z.string() }),
})

type Events = typeof PlayerEvents

export interface PlayerState {
  lives: number
  credit: number
  deaths: number
}

/**
 * The same person as a User, seen by the game: it shares the user's id (and stream) and reacts
 * only to the events it has handlers for, payments among them.
 */
export class Player extends LiveActor<Events, PlayerState> {
  static events = PlayerEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.lives = 0
    this._state.credit = 0
    this._state.deaths = 0
  }

  async Die(cause: string): Promise<void> {
    if (this._state.lives === 0) throw new Error(`player "${this.id}" has no life left to lose`)
    await this.Fire('life_lost', { cause })
  }

  payment_received(data: EventData<Events, 'payment_received'>): void {
    const credit = this._state.credit + data.amount
    this._state.lives += Math.floor(credit / PRICE_OF_A_LIFE)
    this._state.credit = credit % PRICE_OF_A_LIFE
  }

  life_lost(): void {
    this._state.lives -= 1
    this._state.deaths += 1
  }
}
