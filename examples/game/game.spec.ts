import { expect } from 'chai'
import { createContainer, MemoryStore } from 'omniscient-actors'
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
    const game = await new Game('room', container, ['alice', 'bob']).Load()
    const alice = await new Player('alice', container).Load()
    const bob = await new Player('bob', container).Load()
    await alice.Die('lava')
    await alice.Die('spikes')
    await bob.Exit()
    await until(() => game.version === 3, 'three reactions')
    expect(game._state).to.deep.equal({ ejected: ['bob'], respawns: { alice: 2 } })
    await Promise.all([game.Stop(), alice.Stop(), bob.Stop()])
  })

  it('should react after a restart to what players did while it was down, once', async () => {
    const store = new MemoryStore()
    const container = createContainer({ store })
    const alice = await new Player('alice', container).Load()
    const first = await new Game('room', container, ['alice']).Load()
    await alice.Die('lava')
    await until(() => first.version === 1, 'the first reaction')
    await first.Stop()
    await alice.Die('spikes')
    await alice.Die('ice')
    const second = await new Game('room', container, ['alice']).Load()
    await until(() => second.version === 3, 'the missed reactions')
    await new Promise((r) => setTimeout(r, 20))
    expect(second.version).to.equal(3)
    expect(second._state.respawns).to.deep.equal({ alice: 3 })
    const causes = []
    for await (const e of store.readStream('room')) causes.push(e.meta.causationId)
    expect(new Set(causes).size).to.equal(3)
    await Promise.all([second.Stop(), alice.Stop()])
  })
})
