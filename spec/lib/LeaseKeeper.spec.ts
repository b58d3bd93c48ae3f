import { expect } from 'chai'
import { LeaseLostError, ManualClock, MemoryStore, type Clock, type StorageAdapter } from 'omniscient-actors'
import { LeaseKeeper, type FollowReason } from '../../lib/leases/LeaseKeeper.js'
import { silentLink } from '../support/silentLink.js'

const flush = () => new Promise((r) => setTimeout(r, 2))

function keeperOn(store: StorageAdapter, clock: Clock, owner: string, log: string[], timing = { leaseMs: 1_000, renewEveryMs: 250, marginMs: 100 }) {
  return new LeaseKeeper({ store, clock, report: (err) => log.push(`report ${String(err)}`) }, 'one/Thing/1', owner, timing, {
    onLeading: (term) => log.push(`${owner} leads ${term} at ${clock.now()}`),
    onFollowing: (term, reason: FollowReason) => log.push(`${owner} follows ${term} (${reason}) at ${clock.now()}`),
  })
}

describe('LeaseKeeper', () => {
  it('should lead from an acquire until its start + leaseMs - marginMs, and keep leading while renewals succeed', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const keeper = keeperOn(new MemoryStore(), clock, 'a', log)
    expect(await keeper.acquire()).to.equal(true)
    expect([keeper.term, keeper.expiresAt]).to.deep.equal([1, 900])
    for (let i = 0; i < 3; i++) {
      clock.advance(250)
      expect(await keeper.renew()).to.equal(true)
    }
    expect(keeper.expiresAt).to.equal(750 + 900)
    expect(log).to.deep.equal(['a leads 1 at 0'])
    await keeper.stop()
  })

  it('should stop leading at its own expiry while its renewal hangs, and not lead again when that renewal answers late', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const link = silentLink(new MemoryStore())
    const keeper = keeperOn(link.store, clock, 'a', log)
    void keeper.start()
    await flush()
    clock.advance(250)
    await flush() // renewed at 250: leads until 1150
    link.silence()
    clock.advance(250) // the renewal started at 500 hangs
    await flush()
    clock.advance(649)
    expect(keeper.isLeading(), 'at 1149').to.equal(true)
    clock.advance(1)
    expect(keeper.isLeading(), 'at 1150').to.equal(false)
    expect(keeper.term).to.equal(0)
    expect(log).to.deep.equal(['a leads 1 at 0', 'a follows 1 (expired) at 1150'])
    expect(() => keeper.fence()).to.throw(LeaseLostError)
    // The hung renewal now succeeds at the store (the lease was still there): not leading again.
    link.speak()
    await flush()
    expect(keeper.isLeading()).to.equal(false)
    // The next round is a fresh acquire: the same owner gets the same term back.
    clock.advance(250)
    await flush()
    expect(keeper.isLeading()).to.equal(true)
    expect(log.at(-1)).to.match(/^a leads 1 at/)
    await keeper.stop()
  })

  it('should never let two keepers believe they lead at once on one clock, however the holder is cut off', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const store = new MemoryStore()
    const link = silentLink(store)
    const holder = keeperOn(link.store, clock, 'a', log)
    const other = keeperOn(store, clock, 'b', log)
    void holder.start()
    await flush()
    void other.start()
    await flush()
    link.silence()
    let overlap = 0
    for (let t = 0; t < 4_000; t += 10) {
      clock.advance(10)
      if (holder.isLeading() && other.isLeading()) overlap += 10
      await flush()
    }
    expect(overlap).to.equal(0)
    // Cut off at 0 (its renewal at 250 hangs): it stops at 900, the other takes over from 1000.
    expect(log).to.deep.equal(['a leads 1 at 0', 'a follows 1 (expired) at 900', 'b leads 2 at 1000'])
    link.speak()
    await Promise.all([holder.stop(), other.stop()])
  })

  it('should overlap with another holder only by how much their clocks differ past marginMs', async () => {
    const clock = new ManualClock(0)
    const ahead = { now: () => clock.now() + 300, setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, ms) }
    const log: string[] = []
    const store = new MemoryStore()
    const link = silentLink(store)
    const holder = keeperOn(link.store, clock, 'a', log)
    const other = new LeaseKeeper({ store, clock: ahead, report: () => {} }, 'one/Thing/1', 'b', { leaseMs: 1_000, renewEveryMs: 250, marginMs: 100 })
    void holder.start()
    await flush()
    void other.start()
    await flush()
    link.silence()
    let overlap = 0
    for (let t = 0; t < 2_000; t += 10) {
      clock.advance(10)
      if (holder.isLeading() && other.isLeading()) overlap += 10
      await flush()
    }
    // b's clock runs 300 ms ahead: it takes the lease 300 ms early, 200 ms more than the margin covers.
    expect(other.isLeading()).to.equal(true)
    expect(overlap).to.be.greaterThan(0).and.at.most(300 - 100)
    link.speak()
    await Promise.all([holder.stop(), other.stop()])
  })

  it('should keep leading through renewals that each take longer than renewEveryMs, as long as they answer', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const store = new MemoryStore()
    const renewLease = store.renewLease.bind(store)
    store.renewLease = async (...args) => {
      await new Promise<void>((r) => clock.setTimeout(r, 400)) // a slow server: 400 ms a call
      return renewLease(...args)
    }
    const keeper = keeperOn(store, clock, 'a', log)
    void keeper.start()
    await flush()
    for (let t = 0; t < 5_000; t += 10) {
      clock.advance(10)
      await flush()
    }
    expect(log).to.deep.equal(['a leads 1 at 0'])
    expect(keeper.isLeading()).to.equal(true)
    const stopped = keeper.stop() // after the renewal under way
    clock.advance(400)
    await stopped
  })

  it('should follow when a renewal answers after the expiry, even before the expiry timer ran', async () => {
    const base = new ManualClock(0)
    let late = 0
    // Time moves without running timers: an event loop too busy to run them.
    const clock: Clock = { now: () => base.now() + late, setTimeout: (fn, ms) => base.setTimeout(fn, ms) }
    const log: string[] = []
    const link = silentLink(new MemoryStore())
    const keeper = keeperOn(link.store, clock, 'a', log)
    await keeper.acquire()
    late = 250
    link.silence()
    const renewal = keeper.renew()
    await flush()
    late = 950
    link.speak()
    expect(await renewal).to.equal(false)
    expect(keeper.holding).to.equal(false)
    expect(log).to.deep.equal(['a leads 1 at 0', 'a follows 1 (expired) at 950'])
  })

  it('should follow at once when a fenced write is refused, and keep a newer term', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const keeper = keeperOn(new MemoryStore(), clock, 'a', log)
    await keeper.acquire()
    keeper.lost(7)
    expect(keeper.term, 'a refusal of another term').to.equal(1)
    keeper.lost(1)
    expect(keeper.term).to.equal(0)
    expect(log.at(-1)).to.equal('a follows 1 (lost) at 0')
  })

  it('should release on stop(), so another owner acquires at once with a new term', async () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    const store = new MemoryStore()
    const a = keeperOn(store, clock, 'a', log)
    const b = keeperOn(store, clock, 'b', log)
    await a.acquire()
    expect(await b.acquire()).to.equal(false)
    await a.stop()
    expect(await b.acquire()).to.equal(true)
    expect(b.term).to.equal(2)
    expect(log).to.deep.equal(['a leads 1 at 0', 'a follows 1 (released) at 0', 'b leads 2 at 0'])
    await b.stop()
  })

  it('should refuse a timing that would lapse between renewals', () => {
    const make = (timing: { leaseMs: number; renewEveryMs?: number; marginMs?: number }) => () =>
      new LeaseKeeper({ store: new MemoryStore(), clock: new ManualClock(0), report: () => {} }, 'x', 'o', timing)
    expect(make({ leaseMs: 1_000, renewEveryMs: 950 })).to.throw(TypeError, /renewEveryMs/)
    expect(make({ leaseMs: 1_000, marginMs: 1_000 })).to.throw(TypeError)
    expect(make({ leaseMs: 1_000 })().timing).to.deep.equal({ leaseMs: 1_000, renewEveryMs: 250, marginMs: 100 })
  })
})
