import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData, type EventEnvelope } from 'omniscient-actors'

export const GameEvents = defineEvents({
  player_ejected: z.object({ playerId: z.string() }),
  player_respawned: z.object({ playerId: z.string(), respawns: z.number().int() }),
})

type Events = typeof GameEvents

export interface GameState {
  ejected: string[]
  respawns: Record<string, number>
}

/**
 * The seed's process manager: a game room that listens to its players. A player who exits is
 * ejected; a player who dies is respawned. Each listener is durable, so reactions to what the
 * players did while the game was down happen when it comes back, and `causedBy` makes a
 * reaction handled twice (after a crash) stored once.
 */
export class Game extends LiveActor<Events, GameState> {
  static events = GameEvents

  constructor(room: string, container: Container, playerIds: readonly string[]) {
    super(room, container)
    this._state.ejected = []
    this._state.respawns = {}
    for (const playerId of playerIds) {
      this.ListenTo(playerId, (event) => this.react(playerId, event), { durable: `game:${room}:${playerId}` })
    }
  }

  private async react(playerId: string, event: EventEnvelope): Promise<void> {
    switch (event.name) {
      case 'player_exit':
        if (!this._state.ejected.includes(playerId)) await this.Fire('player_ejected', { playerId }, { causedBy: event })
        break
      case 'player_death':
        if (!this._state.ejected.includes(playerId)) {
          const respawns = (this._state.respawns[playerId] ?? 0) + 1
          await this.Fire('player_respawned', { playerId, respawns }, { causedBy: event })
        }
        break
    }
  }

  player_ejected(data: EventData<Events, 'player_ejected'>): void {
    this._state.ejected.push(data.playerId)
  }

  player_respawned(data: EventData<Events, 'player_respawned'>): void {
    this._state.respawns[data.playerId] = data.respawns
  }
}
