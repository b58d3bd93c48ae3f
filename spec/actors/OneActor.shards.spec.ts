import { expect } from 'chai'
import {
  ManualClock,
  MemoryStore,
  TickActor,
  defineEvents,
  tickEvents,
  type TickData,
  ProposalRejectedError,
  createContainer,
  hostShards,
  type Container,
  type EventEnvelope,
  type ShardRegion,
  type StorageAdapter,
} from 'omniscient-actors'
import { placeShards } from '../../lib/shards/placement.js'
import { shardOf } from '../../lib/shards/shardOf.js'
import { collect } from '../store/conformance.js'
import { Stock } from '../support/Stock.js'

/** Stock, led by shard: 8 shards, short leases so that a spec sees several rounds. */
class ShardedStock extends Stock {
  static sharded = true
  static shards = 8
  static override leaseMs = 400
  static override renewEveryMs = 50
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** "Processes" that share one store: one container each, hosting ShardedStock. */
function cluster(store: StorageAdapter = new MemoryStore()) {
  const hosts: Host[] = []
  // The store is shared: a host that leaves stops what its container runs, not the store.
  const leave = async (host: Host) => {
    await host.container.actors.stopAll()
    await host.region.stop()
  }
  return {
    store,
    host(options: { maxActive?: number } = {}): Host {
      const container = createContainer({ store, report: () => {}, actors: { maxActive: options.maxActive ?? 10_000 } })
      const host = { container, region: hostShards(container, ShardedStock) }
      hosts.push(host)
      return host
    },
    async leave(host: Host) {
      hosts.splice(hosts.indexOf(host), 1)
      await leave(host)
    },
    async closeAll() {
      for (const host of hosts.splice(0)) await leave(host)
      await store.close()
    },
  }
}
interface Host {
  readonly container: Container
  readonly region: ShardRegion
}

/** In position order, the terms of a stream never go back. */
function assertTermsMonotonic(events: readonly EventEnvelope[]): void {
  let highest = 0
  for (const e of events) {
    const term = e.meta.term ?? 0
    expect(term, `${e.streamId} v${e.version} under term ${term} after term ${highest}`).to.be.at.least(highest)
    highest = term
  }
}

describe('OneActor sharded', () => {
  describe('shardOf', () => {
    it('should give every process the same shard for an id, spread over the count', () => {
      expect(shardOf('sku-1', 64)).to.equal(shardOf('sku-1', 64))
      // Fixed values: the hash is part of what is stored (it picks the fencing lease).
      expect([shardOf('', 64), shardOf('sku-1', 64), shardOf('é', 1_000)]).to.deep.equal([0x811c9dc5 % 64, shardOf('sku-1', 64), shardOf('é', 1_000)])
      expect(shardOf('a', 2 ** 31)).to.equal(0xe40c292c % 2 ** 31)
      const counts = new Array<number>(16).fill(0)
      for (let i = 0; i < 16_000; i++) counts[shardOf(`order-${i}`, 16)]!++
      for (const count of counts) expect(count).to.be.within(800, 1_200)
    })
  })

  describe('placeShards', () => {
    it('should balance to within one shard and give the same answer for the same members in any order', () => {
      for (const members of [['a'], ['a', 'b'], ['a', 'b', 'c'], ['p1', 'p2', 'p3', 'p4', 'p5']]) {
        for (const shards of [1, 7, 64, 100]) {
          const owners = placeShards(members, shards)
          expect(owners).to.have.length(shards)
          expect(placeShards([...members].reverse(), shards)).to.deep.equal(owners)
          const counts = members.map((m) => owners.filter((o) => o === m).length)
          expect(Math.max(...counts) - Math.min(...counts), `${members.length} members, ${shards} shards: ${counts.join(',')}`).to.be.at.most(1)
        }
      }
    })

    it('should move few shards besides the share of a member that joins or leaves', () => {
      const three = placeShards(['a', 'b', 'c'], 64)
      const four = placeShards(['a', 'b', 'c', 'd'], 64)
      const moved = three.filter((owner, shard) => owner !== four[shard]).length
      // d takes 16; a reshuffle (shard % members) would move about 48.
      expect(moved).to.be.below(32)
    })
  })

  describe('across containers sharing a store', () => {
    let c: ReturnType<typeof cluster>
    beforeEach(() => (c = cluster()))
    afterEach(() => c.closeAll())

    it('should split the shards evenly, lead every actor of a shard under the shard lease, and hold no lease per actor', async () => {
      const a = c.host()
      const b = c.host()
      await until(() => a.region.Shards.length + b.region.Shards.length === 8 && a.region.Shards.length === 4, 'an even split')
      const stocks = await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map((id) => a.container.actors.get(ShardedStock, id)))
      for (const stock of stocks) await stock.Fire('received', { qty: 1 })
      for (const stock of stocks) {
        const shard = a.region.shardOf(stock.id)
        const events = await collect(c.store.readStream(stock.id))
        const lease = await c.store.readLease(a.region.leaseName(shard))
        expect(events[0]!.meta.term, stock.id).to.equal(lease!.term)
        expect(stock.IsLeader, stock.id).to.equal(a.region.Shards.includes(shard))
      }
      const leases = (await c.store.listLeases!()).map((l) => l.name)
      expect(leases.filter((name) => name.startsWith('one/'))).to.deep.equal([])
      expect(leases.filter((name) => name.startsWith('shard/'))).to.have.length(8)
    })

    it("should commit a Fire from a process that does not own the shard through the owner, activating the actor there on demand", async () => {
      const a = c.host()
      await until(() => a.region.Shards.length === 8, 'a to own every shard')
      const b = c.host()
      await until(() => a.region.Shards.length === 4 && b.region.Shards.length === 4, 'the hand-over to b')
      // An actor of a shard b owns, fired from a.
      const id = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'].find((x) => b.region.Shards.includes(b.region.shardOf(x)))!
      expect(b.container.actors.size).to.equal(0)
      const onA = await a.container.actors.get(ShardedStock, id)
      expect(onA.IsLeader).to.equal(false)
      const stored = await onA.Fire('received', { qty: 3 })
      expect(b.container.actors.size, 'activated on the owner').to.equal(1)
      const onB = await b.container.actors.get(ShardedStock, id)
      expect(onB.IsLeader).to.equal(true)
      expect(stored.meta.term).to.equal(onB.Term)
      await until(() => onA._state.left === 3, 'the proposer to apply its event')
      const err = await onA.Fire('sold', { qty: 5, to: 'ann' }).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(ProposalRejectedError).and.to.have.property('message').that.matches(/only 3 left/)
      expect(onB._state.left).to.equal(3)
    })

    it('should passivate idle actors on the owner and activate them again for a proposal', async () => {
      const a = c.host({ maxActive: 5 })
      await until(() => a.region.Shards.length === 8, 'a to own every shard')
      const b = c.host()
      await until(() => b.region.Shards.length === 4, 'the hand-over to b')
      const ids = Array.from({ length: 40 }, (_, i) => `p${i}`).filter((id) => a.region.Shards.includes(a.region.shardOf(id)))
      const proposers = await Promise.all(ids.map((id) => b.container.actors.get(ShardedStock, id)))
      for (const p of proposers) await p.Fire('received', { qty: 1 })
      for (const p of proposers) await p.Fire('received', { qty: 2 })
      expect(a.container.actors.size, 'at most maxActive resident on the owner').to.be.at.most(6)
      for (const id of ids) expect((await collect(c.store.readStream(id))).map((e) => e.data)).to.deep.equal([{ qty: 1 }, { qty: 2 }])
    })

    it('should hand shards over to a process that joins under load and take them back when it leaves, losing and doubling no Fire', async () => {
      const a = c.host()
      await until(() => a.region.Shards.length === 8, 'a to own every shard')
      const ids = Array.from({ length: 16 }, (_, i) => `load-${i}`)
      const onA = await Promise.all(ids.map((id) => a.container.actors.get(ShardedStock, id)))
      let firing = true
      const acknowledged: string[] = []
      const failures: unknown[] = []
      const load = (async () => {
        for (let n = 0; firing; n++) {
          // A MemoryStore answers in microtasks: without a pause the loop would starve the timers.
          await new Promise((r) => setImmediate(r))
          const stock = onA[n % onA.length]!
          try {
            acknowledged.push((await stock.Fire('received', { qty: 1 }, { id: `fire-${n}` })).id)
          } catch (err) {
            failures.push(err)
          }
        }
      })()
      const b = c.host()
      await until(() => b.region.Shards.length === 4 && a.region.Shards.length === 4, 'the hand-over to b')
      await new Promise((r) => setTimeout(r, 200))
      await c.leave(b)
      await until(() => a.region.Shards.length === 8, 'a to take every shard back')
      await new Promise((r) => setTimeout(r, 200))
      firing = false
      await load
      expect(failures, String(failures[0])).to.deep.equal([])
      expect(acknowledged.length).to.be.above(20)
      const stored: string[] = []
      for (const id of ids) {
        const events = await collect(c.store.readStream(id))
        assertTermsMonotonic(events)
        stored.push(...events.map((e) => e.id))
      }
      expect(new Set(stored).size, 'no event stored twice').to.equal(stored.length)
      expect(stored).to.include.members(acknowledged)
    })
  })

  describe('on a manual clock', () => {
    /** Moves the clock in steps, letting the store calls and timers of each step settle. */
    async function advance(clock: ManualClock, ms: number, step = 10): Promise<void> {
      for (let done = 0; done < ms; done += step) {
        clock.advance(step)
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
      }
    }

    it('should tick a sharded TickActor from the owner of its shard only, numbered without gaps, while a second process joins', async () => {
      const ClockEvents = defineEvents({ ...tickEvents })
      class Clock extends TickActor<typeof ClockEvents, { ticks: number[] }> {
        static events = ClockEvents
        static sharded = true
        static shards = 4
        static resolution = 100
        static leaseMs = 400
        static renewEveryMs = 50
        constructor(id: string, container: Container) {
          super(id, container)
          this._state.ticks = []
        }
        tick(data: TickData) {
          this._state.ticks.push(data.tick)
        }
      }
      const store = new MemoryStore()
      const clock = new ManualClock(0)
      const a = createContainer({ store, clock, report: () => {} })
      const onA = await a.actors.get(Clock, 'clock-1')
      await advance(clock, 1_000)
      expect(onA.IsLeader).to.equal(true)
      const b = createContainer({ store, clock, report: () => {} })
      const onB = await b.actors.get(Clock, 'clock-1')
      await advance(clock, 2_000)
      expect([onA.IsLeader, onB.IsLeader].filter(Boolean), 'one leader').to.have.length(1)
      const ticks = (await collect(store.readStream('clock-1'))).map((e) => (e.data as TickData).tick)
      expect(ticks.length).to.be.at.least(20)
      expect(ticks).to.deep.equal(ticks.map((_, i) => i + 1))
      await b.actors.stopAll()
      await hostShards(b, Clock).stop()
      await a.actors.stopAll()
      await hostShards(a, Clock).stop()
    })

    it('should stop leading at t + leaseMs - margin when its renewals hang, before another process takes over', async () => {
      const memory = new MemoryStore()
      let hang = false
      // A: its lease calls stop answering (a silent link); B's go through.
      const silent = new Proxy(memory, {
        get(target, key, receiver) {
          if (key === 'renewLease' || key === 'acquireLease' || key === 'readLease') {
            return (...args: unknown[]) => (hang ? new Promise(() => {}) : Reflect.apply(Reflect.get(target, key, receiver) as (...a: unknown[]) => unknown, target, args))
          }
          return Reflect.get(target, key, receiver) as unknown
        },
      })
      const clock = new ManualClock(1_000)
      const changes: string[] = []
      const a = hostShards(createContainer({ store: silent, clock, report: () => {} }), ShardedStock)
      a.onChange(({ shard, term }) => changes.push(`a ${shard} ${term} @${clock.now()}`))
      await advance(clock, 100)
      expect(a.Shards).to.have.length(8)
      hang = true
      // The last renewal that started before the hang: within one round (50 ms) of now.
      const lastRenewal = clock.now() - 50
      const b = hostShards(createContainer({ store: memory, clock, report: () => {} }), ShardedStock)
      b.onChange(({ shard, term }) => changes.push(`b ${shard} ${term} @${clock.now()}`))
      await advance(clock, 1_000)
      expect(a.Shards, 'a leads nothing').to.deep.equal([])
      expect(b.Shards, 'b leads every shard').to.have.length(8)
      const aStopped = Math.max(...changes.filter((c) => c.startsWith('a ') && c.includes(' 0 @')).map((c) => Number(c.split('@')[1])))
      const bStarted = Math.min(...changes.filter((c) => c.startsWith('b ') && !c.includes(' 0 @')).map((c) => Number(c.split('@')[1])))
      const { leaseMs } = ShardedStock
      expect(aStopped, changes.join('\n')).to.be.at.most(lastRenewal + 50 + leaseMs - leaseMs / 10)
      expect(aStopped, 'a stopped leading before b began').to.be.below(bStarted)
      await b.stop()
    })
  })
})
