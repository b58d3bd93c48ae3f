import { expect } from 'chai'
import { LeaseLostError, ManualClock, MemoryStore, TickActor, createContainer, hostShards, defineEvents, tickEvents, type Clock, type Container, type TickData } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { silentLink } from '../support/silentLink.js'
import { Stock } from '../support/Stock.js'

// Stock: leaseMs 1000, renewEveryMs 250, so leaseMarginMs defaults to 100.
const settle = () => new Promise((r) => setTimeout(r, 2))

const ClockEvents = defineEvents({ ...tickEvents })
class Metronome extends TickActor<typeof ClockEvents, { seen: number[] }> {
  static events = ClockEvents
  static resolution = 100
  static leaseMs = 1_000
  static renewEveryMs = 250
  readonly changes: string[] = []
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.seen = []
  }
  tick(data: TickData) {
    this._state.seen.push(data.tick)
  }
  protected override onLeading(): void {
    this.changes.push(`leading at ${this.container.clock.now()}`)
    super.onLeading()
  }
  protected override onFollowing(): void {
    this.changes.push(`following at ${this.container.clock.now()}`)
    super.onFollowing()
  }
}

describe('OneActor leadership that expires at the holder', () => {
  it('should stop believing it leads at its last renewal start + leaseMs - margin while cut off from the store, before another takes over', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store)
    const old = await new Stock('sku', createContainer({ store: link.store, clock, report: () => {} })).Load()
    const next = await new Stock('sku', createContainer({ store, clock, report: () => {} })).Load()
    await old.Fire('received', { qty: 3 })
    clock.advance(250)
    await settle() // renewed at 250: it leads until 250 + 1000 - 100
    link.silence()
    const seen: Array<[number, boolean, boolean]> = []
    for (let t = 250; t < 2_500; t += 10) {
      clock.advance(10)
      await settle()
      seen.push([clock.now(), old.IsLeader, next.IsLeader])
    }
    const oldUntil = seen.find(([, o]) => !o)![0]
    const nextFrom = seen.find(([, , n]) => n)![0]
    expect(oldUntil, 'the old leader stops at its own expiry').to.equal(1_150)
    expect(nextFrom, 'the other takes over once the stored lease expired').to.be.within(1_250, 1_250 + 250)
    expect(seen.filter(([, o, n]) => o && n), 'no moment with two leaders').to.deep.equal([])
    expect(old.Term).to.equal(0)
    expect(next.Term).to.equal(2)
    await next.Fire('sold', { qty: 1, to: 'ok' })
    link.speak()
    await Promise.all([old.Stop(), next.Stop()])
  })

  it("should reject a leader's Fire past its lease's expiry with LeaseLostError at once, sending nothing, even before its timer ran", async () => {
    const base = new ManualClock(0)
    let late = 0
    // A clock whose time moves without running the timers: an event loop too busy to run them.
    const clock: Clock = { now: () => base.now() + late, setTimeout: (fn, ms) => base.setTimeout(fn, ms) }
    const store = new MemoryStore()
    const link = silentLink(store)
    const leader = await new Stock('sku', createContainer({ store: link.store, clock, report: () => {} })).Load()
    await leader.Fire('received', { qty: 3 })
    late = 899
    expect(leader.IsLeader).to.equal(true)
    late = 900
    expect(leader.IsLeader, 'leadership ends at 0 + 1000 - 100').to.equal(false)
    const appends = link.sent['append']
    const err = await leader.Fire('sold', { qty: 1, to: 'late' }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(LeaseLostError)
    expect((err as LeaseLostError).expiredAt).to.equal(900)
    expect(link.sent['append'], 'nothing sent').to.equal(appends)
    expect(leader.Term).to.equal(0)
    expect(await store.streamVersion('sku')).to.equal(1)
    await leader.Stop()
  })

  it('should stop ticking at the expiry when its renewals hang, and another instance carry on the numbering', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store, ['acquireLease', 'renewLease', 'releaseLease'])
    const a = await new Metronome('m', createContainer({ store: link.store, clock, report: () => {} })).Load()
    const b = await new Metronome('m', createContainer({ store, clock, report: () => {} })).Load()
    link.silence() // from 0: a's renewal at 250 never answers, so a leads until 900
    for (let t = 0; t < 2_000; t += 10) {
      clock.advance(10)
      await settle()
    }
    expect(a.changes).to.deep.equal(['leading at 0', 'following at 900'])
    expect(b.changes).to.deep.equal(['leading at 1000'])
    const ticks = await collect(store.readStream('m'))
    const byTerm = (term: number) => ticks.filter((e) => e.meta.term === term).map((e) => (e.data as TickData).tick)
    expect(byTerm(1), 'ticks of the cut-off leader, all before 900').to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8])
    expect(ticks.filter((e) => e.meta.term === 1).every((e) => (e.data as TickData).firedAt < 900)).to.equal(true)
    expect(byTerm(2)[0], 'numbering continues on the new leader').to.equal(9)
    link.speak()
    await Promise.all([a.Stop(), b.Stop()])
  })

  it('should send no tick past its expiry, even one whose commit re-reads the stream first', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store, ['renewLease', 'readStream', 'append'])
    const a = await new Metronome('m', createContainer({ store: link.store, clock, report: () => {} })).Load()
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        clock.advance(10)
        await settle()
      }
    }
    await run(260) // ticks 1 and 2; renewed at 250, so it leads until 1150
    // At 300, tick 3's append fails, and so does the re-read after it: the state is stale, so
    // tick 3 again re-reads the stream before its append, and that read hangs, as does the
    // renewal at 500.
    link.fail('append')
    link.fail('readStream')
    link.silence()
    await run(1_100)
    expect(a.changes).to.deep.equal(['leading at 0', 'following at 1150'])
    const appends = link.sent['append']
    link.speak() // the re-read answers past the expiry: the append after it is not sent
    await settle()
    expect(link.sent['append'], 'appends sent past the expiry').to.equal(appends)
    await run(500) // it leads again through a fresh acquire, and carries on the numbering
    expect(a.changes).to.have.length(3)
    const ledAgain = Number(a.changes[2]!.replace('leading at ', ''))
    const ticks = (await collect(store.readStream('m'))).map((e) => e.data as TickData)
    expect(ticks.map((t) => t.tick)).to.deep.equal(ticks.map((_, i) => i + 1))
    expect(ticks.length).to.be.at.least(4)
    expect(ticks[2]!.firedAt, 'tick 3, fired again once it leads again').to.be.at.least(ledAgain)
    await a.Stop()
  })

  it("should send no tick past its shard's expiry, even one whose commit re-reads the stream first", async () => {
    class ShardedMetronome extends Metronome {
      static sharded = true
      static shards = 1
    }
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store, ['renewLease', 'readStream', 'append'])
    const container = createContainer({ store: link.store, clock, report: () => {} })
    const a = await container.actors.get(ShardedMetronome, 'm')
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 10) {
        clock.advance(10)
        await settle()
      }
    }
    await run(260) // ticks 1 and 2
    expect(a.IsLeader).to.equal(true)
    // At 300, tick 3's append fails, and so does the re-read after it: tick 3 re-reads the
    // stream before its append, and that read hangs, as do the shard's renewals.
    link.fail('append')
    link.fail('readStream')
    link.silence()
    await run(1_100)
    expect(a.IsLeader, 'the shard expired here').to.equal(false)
    const appends = link.sent['append']
    link.speak() // the re-read answers past the expiry: the append after it is not sent
    await settle()
    expect(link.sent['append'], 'appends sent past the expiry').to.equal(appends)
    await run(500) // the shard is led here again through a fresh acquire, and tick 3 fired again
    expect(a.IsLeader).to.equal(true)
    const ticks = (await collect(store.readStream('m'))).map((e) => e.data as TickData)
    expect(ticks.map((t) => t.tick)).to.deep.equal(ticks.map((_, i) => i + 1))
    expect(ticks.length).to.be.at.least(4)
    await container.actors.stopAll()
    await hostShards(container, ShardedMetronome).stop()
  })
})
