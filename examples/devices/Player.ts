import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const PlayerEvents = defineEvents({
  lives_bought: z.object({ lives: z.number().int().positive(), paidCents: z.number().int().nonnegative(), device: z.string() }),
  life_lost: z.object({ device: z.string() }),
})

/** The seed's player: lives bought on one device show on every device of the same player. */
export class Player extends LiveActor<typeof PlayerEvents, { lives: number; lastDevice?: string }> {
  static events = PlayerEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.lives = 3
  }

  Buy(lives: number, device: string) {
    return this.Fire('lives_bought', { lives, paidCents: lives * 99, device })
  }

  /** Refused when no life is left, also after other devices' events came first. */
  LoseLife(device: string) {
    return this.Fire('life_lost', { device }, { precondition: (s) => s.lives > 0 })
  }

  lives_bought(data: EventData<typeof PlayerEvents, 'lives_bought'>): void {
    this._state.lives += data.lives
    this._state.lastDevice = data.device
  }

  life_lost(data: EventData<typeof PlayerEvents, 'life_lost'>): void {
    this._state.lives -= 1
    this._state.lastDevice = data.device
  }
}
