import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const PlayerEvents = defineEvents({
  player_death: z.object({ cause: z.string() }),
  player_exit: z.undefined(),
})

type Events = typeof PlayerEvents

/** A player in a room: dies now and then, and may leave. */
export class Player extends LiveActor<Events, { deaths: number; left: boolean }> {
  static events = PlayerEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.deaths = 0
    this._state.left = false
  }

  async Die(cause: string): Promise<void> {
    if (this._state.left) throw new Error(`player "${this.id}" has left the game`)
    await this.Fire('player_death', { cause })
  }

  async Exit(): Promise<void> {
    await this.Fire('player_exit', undefined, { precondition: (s) => !s.left })
  }

  player_death(_data: EventData<Events, 'player_death'>): void {
    this._state.deaths += 1
  }

  player_exit(): void {
    this._state.left = true
  }
}
