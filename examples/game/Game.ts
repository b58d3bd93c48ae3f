import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData, type EventEnvelope } from 'omniscient-actors'

export const GameEvents = defineEvents({
  player_joined: z.object({ playerId: z.string() }),
  player_ejected: z.object({ playerId: z.string() }),
  player_respawned: z.object({ playerId: z.string(), respawns: z.number().int() }),
})

type Events = typeof GameEvents

export interface GameState {
  players: string[]
  ejected: string[]
  respawns: Record<string, number>
}

/**
 * A process manager: a game room that listens to its players. A player who exits is ejected; a
 * player who dies is respawned. Its constructor takes only the room id and the container, so
 * `container.actors.get(Game, room)` and `Given(...).When(Game, ...)` can build it: players
 * join through an event, and one listener hears player events on every stream, keeping those of
 * the room's players. The listener is durable, so reactions to what the players did while the
 * game was down happen when it comes back, and `causedBy` makes a reaction handled twice (after
 * a crash) stored once.
 */
export class Game extends LiveActor<Events, GameState> {
  static events = GameEvents

  constructor(room: string, container: Container) {
    super(room, container)
    this._state.players = []
    this._state.ejected = []
    this._state.respawns = {}
    this.ListenTo({ names: ['player_death', 'player_exit'] }, (event) => this.react(event), { durable: `game:${room}` })
  }

  /** Adds a player to the room; a player already in it stays in once. */
  async Join(playerId: string): Promise<void> {
    if (this._state.players.includes(playerId)) return
    await this.Fire('player_joined', { playerId }, { precondition: (s) => !s.players.includes(playerId) })
  }

  private async react(event: EventEnvelope): Promise<void> {
    const playerId = event.streamId
    if (!this._state.players.includes(playerId) || this._state.ejected.includes(playerId)) return
    if (event.name === 'player_exit') {
      await this.Fire('player_ejected', { playerId }, { causedBy: event })
    } else {
      const respawns = (this._state.respawns[playerId] ?? 0) + 1
      await this.Fire('player_respawned', { playerId, respawns }, { causedBy: event })
    }
  }

  player_joined(data: EventData<Events, 'player_joined'>): void {
    this._state.players.push(data.playerId)
  }

  player_ejected(data: EventData<Events, 'player_ejected'>): void {
    this._state.ejected.push(data.playerId)
  }

  player_respawned(data: EventData<Events, 'player_respawned'>): void {
    this._state.respawns[data.playerId] = data.respawns
  }
}
