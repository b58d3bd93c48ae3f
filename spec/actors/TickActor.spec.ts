import { expect } from 'chai'
import { z } from 'zod'
import { ManualClock, MemoryStore, TickActor, createContainer, defineEvents, tickEvents, type Container, type TickData } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { silentLink } from '../support/silentLink.js'

const ClockEvents = defineEvents({ ...tickEvents, paused: z.undefined() })

class GameClock extends TickActor<typeof ClockEvents, { seen: TickData[] }> {
  static events = ClockEvents
  static resolution = 100
  static leaseMs = 1_000
  static renewEveryMs = 250
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.seen = []
  }
  tick(data: TickData) {
    this._state.seen.push(data)
  }
}

const settle = () => new Promise((r) => setTimeout(r, 2))

async function run(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step)
    await settle()
  }
}

describe('TickActor', () => {
  it('should tick at the resolution, numbered from 1, with scheduled and actual times', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const gc = await new GameClock('g', createContainer({ store, clock })).Load()
    await run(clock, 1_000)
    const ticks = gc._state.seen
    expect(ticks.map((t) => t.tick)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(ticks[0]).to.deep.equal({ tick: 1, scheduledAt: 100, firedAt: 100 })
    for (const t of ticks) expect(t.firedAt).to.be.at.least(t.scheduledAt)
    const stored = await collect(store.readStream('g'))
    expect(stored.map((e) => e.id)).to.deep.equal(ticks.map((t) => `tick/GameClock/g/${t.tick}`))
    await gc.Stop()
  })

  it('should be at-least: a late tick pushes the next one back', async () => {
    const clock = new ManualClock(0)
    const gc = await new GameClock('g', createContainer({ store: new MemoryStore(), clock })).Load()
    clock.advance(250) // the first tick, due at 100, fires at 100; nothing runs between 100 and 250
    await settle()
    await run(clock, 300)
    const ticks = gc._state.seen
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.firedAt - ticks[i - 1]!.firedAt).to.be.at.least(100)
    await gc.Stop()
  })

  it('should tick from one instance only, and continue the numbering after a failover, without gap or duplicate', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const a = await new GameClock('g', createContainer({ store, clock })).Load()
    const b = await new GameClock('g', createContainer({ store, clock })).Load()
    expect([a.IsLeader, b.IsLeader]).to.deep.equal([true, false])
    await run(clock, 500)
    await a.Stop() // hands over
    await run(clock, 600)
    expect(b.IsLeader).to.equal(true)
    const ticks = (await collect(store.readStream('g'))).map((e) => (e.data as TickData).tick)
    expect(ticks).to.deep.equal(ticks.map((_, i) => i + 1))
    expect(ticks.length).to.be.within(9, 11)
    await b.Stop()
  })

  it('should number its ticks without a gap when one of its appends fails and it carries on leading', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store, [])
    const gc = await new GameClock('g', createContainer({ store: link.store, clock, report: () => {} })).Load()
    await run(clock, 250) // ticks 1 and 2
    link.fail('append') // tick 3's append fails before it reaches the store
    await run(clock, 500)
    const ticks = (await collect(store.readStream('g'))).map((e) => (e.data as TickData).tick)
    expect(ticks.length).to.be.at.least(6)
    expect(ticks, 'tick 3 is fired again, not skipped').to.deep.equal(ticks.map((_, i) => i + 1))
    expect(gc.LastTick).to.equal(ticks.length)
    await gc.Stop()
  })

  it('should stop cleanly and resume the numbering on Load', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const gc = await new GameClock('g', createContainer({ store, clock })).Load()
    await run(clock, 300)
    await gc.Stop()
    const stoppedAt = gc.LastTick
    await run(clock, 500)
    expect(gc.LastTick, 'no tick while stopped').to.equal(stoppedAt)
    await gc.Load()
    await run(clock, 300)
    expect(gc._state.seen.map((t) => t.tick)).to.deep.equal(gc._state.seen.map((_, i) => i + 1))
    expect(gc.LastTick).to.be.greaterThan(stoppedAt)
    await gc.Stop()
  })

  it('should resume the numbering on Load from a snapshot that no tick follows', async () => {
    class SnapshotClock extends GameClock {
      static snapshotEvery = 5
    }
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const reported: unknown[] = []
    const a = await new SnapshotClock('g', createContainer({ store, clock })).Load()
    await run(clock, 550) // ticks 1..5, the snapshot at 5
    await a.Stop()
    expect(await store.loadSnapshot('SnapshotClock', 'g')).to.include({ version: 5 })
    const b = await new SnapshotClock('g', createContainer({ store, clock, report: (err) => reported.push(err) })).Load()
    expect(b.LastTick, 'the last tick, from the stream before the snapshot').to.equal(5)
    await run(clock, 350)
    const ticks = (await collect(store.readStream('g'))).map((e) => e.data as TickData)
    expect(ticks.map((t) => t.tick)).to.deep.equal(ticks.map((_, i) => i + 1))
    expect(ticks[5], 'tick 6, a resolution after tick 5').to.deep.include({ tick: 6, scheduledAt: ticks[4]!.firedAt + 100 })
    const after = ticks.slice(5)
    for (let i = 1; i < after.length; i++) expect(after[i]!.firedAt - after[i - 1]!.firedAt).to.be.at.least(100)
    expect(after).to.have.length(4)
    expect(b.LastTick).to.equal(9)
    expect(reported).to.deep.equal([])
    await b.Stop()
  })

  it('should refuse a class whose events do not include tick', () => {
    const NoTick = defineEvents({ paused: z.undefined() })
    class Broken extends TickActor<typeof NoTick> {
      static events = NoTick
    }
    expect(() => new (Broken as unknown as new (id: string, c: Container) => TickActor)('x', createContainer())).to.throw(TypeError, /tickEvents/)
  })
})
