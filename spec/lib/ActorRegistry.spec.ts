import { expect } from 'chai'
import { z } from 'zod'
import { LiveActor, ManualClock, MemoryStore, createContainer, defineEvents, type Container } from 'omniscient-actors'

const E = defineEvents({ bumped: z.undefined() })
class Counter extends LiveActor<typeof E, { n: number }> {
  static events = E
  static loads = 0
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.n = 0
  }
  override async Load() {
    Counter.loads++
    return super.Load()
  }
  bumped() {
    this._state.n++
  }
}

describe('container.actors (the registry)', () => {
  beforeEach(() => (Counter.loads = 0))

  it('should hand every caller the same loaded, live instance, loading it once', async () => {
    const container = createContainer({ store: new MemoryStore() })
    const [a, b] = await Promise.all([container.actors.get(Counter, 'c'), container.actors.get(Counter, 'c')])
    expect(a).to.equal(b)
    expect(a.Following).to.equal(true)
    expect(Counter.loads).to.equal(1)
    expect(await container.actors.get(Counter, 'd')).to.not.equal(a)
    await container.close()
    expect(a.Following).to.equal(false)
  })

  it('should passivate actors idle for longer than idleMs', async () => {
    const clock = new ManualClock(0)
    const container = createContainer({ store: new MemoryStore(), clock, actors: { idleMs: 1_000 } })
    const old = await container.actors.get(Counter, 'old')
    clock.advance(600)
    const fresh = await container.actors.get(Counter, 'fresh')
    clock.advance(600)
    await container.actors.sweep()
    expect(old.Following).to.equal(false)
    expect(fresh.Following).to.equal(true)
    expect(container.actors.size).to.equal(1)
    const again = await container.actors.get(Counter, 'old')
    expect(again).to.not.equal(old)
    await container.close()
  })

  it('should keep at most maxActive actors, passivating the least recently used', async () => {
    const clock = new ManualClock(0)
    const container = createContainer({ store: new MemoryStore(), clock, actors: { maxActive: 50 } })
    const first = await container.actors.get(Counter, 'id-0')
    for (let i = 1; i < 2_000; i++) {
      clock.advance(1)
      await container.actors.get(Counter, `id-${i}`)
      if (i % 10 === 0) await container.actors.get(Counter, 'id-0') // kept warm
    }
    await new Promise((r) => setImmediate(r))
    expect(container.actors.size).to.be.at.most(50)
    expect(await container.actors.get(Counter, 'id-0')).to.equal(first)
    await container.close()
  })

  it('should not cache a failed Load', async () => {
    const store = new MemoryStore()
    const container = createContainer({ store })
    const original = store.readStream.bind(store)
    let fail = true
    store.readStream = (id, options) => {
      if (fail) throw new Error('disk on fire')
      return original(id, options)
    }
    const err = await container.actors.get(Counter, 'c').catch((e: unknown) => e)
    expect((err as Error).message).to.equal('disk on fire')
    fail = false
    const counter = await container.actors.get(Counter, 'c')
    expect(counter.Following).to.equal(true)
    await container.close()
  })
})
