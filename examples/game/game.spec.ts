import { expect } from 'chai'
import { createContainer, MemoryStore } from 'omniscient-actors'
import { Given } from 'omniscient-actors/testing'
import { Game } from './Game.js'
import { Player } from './Player.js'

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

describe('the game example', () => {
  it('should respawn a player who dies and eject one who exits', async () => {
    const container = createContainer({ store: new MemoryStore() })
    const game = await container.actors.get(Game, 'room')
    await game.Join('alice')
    await game.Join('bob')
    await game.Join('alice')
    const alice = await new Player('alice', container).Load()
    const bob = await new Player('bob', container).Load()
    const carol = await new Player('carol', container).Load()
    await alice.Die('lava')
    await carol.Die('lava')
    await alice.Die('spikes')
    await bob.Exit()
    await until(() => game.version === 5, 'three reactions after two joins')
    expect(game._state).to.deep.equal({ players: ['alice', 'bob'], ejected: ['bob'], respawns: { alice: 2 } })
    await Promise.all([alice.Stop(), bob.Stop(), carol.Stop()])
    await container.close()
  })

  it('should react after a restart to what players did while it was down, once', async () => {
    const store = new MemoryStore()
    const container = createContainer({ store })
    const alice = await new Player('alice', container).Load()
    const first = await new Game('room', container).Load()
    await first.Join('alice')
    await alice.Die('lava')
    await until(() => first.version === 2, 'the first reaction')
    await first.Stop()
    await alice.Die('spikes')
    await alice.Die('ice')
    const second = await new Game('room', container).Load()
    await until(() => second.version === 4, 'the missed reactions')
    await new Promise((r) => setTimeout(r, 20))
    expect(second.version).to.equal(4)
    expect(second._state.respawns).to.deep.equal({ alice: 3 })
    const causes = []
    for await (const e of store.readStream('room')) if (e.name === 'player_respawned') causes.push(e.meta.causationId)
    expect(new Set(causes).size).to.equal(3)
    await Promise.all([second.Stop(), alice.Stop()])
  })

  it('should be testable with Given/When/Then, its durable listener reacting on Load', async () => {
    // The listener starts when When loads the game, before Join runs: it reacts to alice's
    // death, in the Given history, and its reaction is among the events Then sees, first.
    await Given('alice joined and died', [
      { name: 'player_joined', data: { playerId: 'alice' } },
      { name: 'player_death', data: { cause: 'lava' }, streamId: 'alice', actor: Player },
    ], { id: 'room' })
      .When(Game, 'Join', 'bob')
      .Then([
        { name: 'player_respawned', data: { playerId: 'alice', respawns: 1 } },
        { name: 'player_joined', data: { playerId: 'bob' } },
      ])
      .AndState({ players: ['alice', 'bob'], respawns: { alice: 1 } })
  })
})
