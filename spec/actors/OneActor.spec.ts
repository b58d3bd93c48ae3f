import { expect } from 'chai'
import {
  LeaseLostError,
  ManualClock,
  MemoryStore,
  ProposalRejectedError,
  createContainer,
  type StorageAdapter,
} from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { Stock } from '../support/Stock.js'

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/** Instances that share a store; each gets its own clock, so one can be "frozen" (a paused process). */
function cluster(store: StorageAdapter = new MemoryStore()) {
  const running: Stock[] = []
  return {
    store,
    running,
    async instance(clock: ManualClock) {
      const stock = await new Stock('sku', createContainer({ store, clock, report: () => {} })).Load()
      running.push(stock)
      return stock
    },
    async stopAll() {
      await Promise.all(running.map((s) => s.Stop()))
    },
  }
}

describe('OneActor', () => {
  it('should elect the first instance to load, and make the others followers', async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const a = await c.instance(clock)
    const b = await c.instance(clock)
    expect([a.IsLeader, b.IsLeader]).to.deep.equal([true, false])
    expect(a.Term).to.equal(1)
    await c.stopAll()
  })

  it("should commit a follower's Fire through the leader, not apply it locally first, and resolve with the stored envelope", async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const leader = await c.instance(clock)
    const follower = await c.instance(clock)
    await leader.Fire('received', { qty: 5 })
    await until(() => follower.version === 1, 'the follower to follow')
    const sale = follower.Fire('sold', { qty: 2, to: 'ann' })
    expect(follower._state.left, 'not applied before the leader commits').to.equal(5)
    const stored = await sale
    expect(stored).to.include({ version: 2, name: 'sold' })
    expect(stored.meta).to.include({ term: 1 })
    expect(follower._state.left).to.equal(3)
    await until(() => leader.version === 2, 'the leader')
    expect(leader._state).to.deep.equal(follower._state)
    await c.stopAll()
  })

  it('should reject a proposal the leader refuses, storing nothing', async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const leader = await c.instance(clock)
    const follower = await c.instance(clock)
    await leader.Fire('received', { qty: 1 })
    const err = await follower.Fire('sold', { qty: 3, to: 'bob' }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(ProposalRejectedError).and.to.include({ reasonCode: 'HANDLER' })
    expect((err as Error).message).to.include('only 1 left')
    expect(await c.store.streamVersion('sku')).to.equal(1)
    await c.stopAll()
  })

  it('should never oversell, whoever sells, all at once', async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const instances = [await c.instance(clock), await c.instance(clock), await c.instance(clock)]
    await instances[0]!.Fire('received', { qty: 10 })
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => instances[i % 3]!.Fire('sold', { qty: 1, to: `buyer${i}` })))
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(10)
    const events = await collect(c.store.readStream('sku'))
    expect(events.filter((e) => e.name === 'sold')).to.have.length(10)
    await c.stopAll()
  })

  it('should hand over at once on Stop(): the lease is released and a follower leads', async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const a = await c.instance(clock)
    const b = await c.instance(clock)
    await a.Stop()
    clock.advance(250)
    await until(() => b.IsLeader, 'b to lead')
    expect(b.Term).to.equal(2)
    await b.Fire('received', { qty: 1 })
    await c.stopAll()
  })

  it('should fail over when the leader stops renewing, and fence the old leader (split brain)', async () => {
    const c = cluster()
    const frozen = new ManualClock(0) // the leader's clock never moves: a paused process
    const moving = new ManualClock(0)
    const old = await c.instance(frozen)
    const next = await c.instance(moving)
    await old.Fire('received', { qty: 3 })
    for (let t = 0; t < 1_250 && !next.IsLeader; t += 250) {
      moving.advance(250)
      await new Promise((r) => setTimeout(r, 2))
    }
    expect(next.IsLeader, 'a follower took the expired lease').to.equal(true)
    expect(next.Term).to.equal(2)
    expect(old.IsLeader, 'the old leader does not know yet').to.equal(true)
    const err = await old.Fire('sold', { qty: 1, to: 'late' }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(LeaseLostError)
    expect(old.IsLeader, 'it stepped down').to.equal(false)
    expect((await collect(c.store.readStream('sku'))).map((e) => e.name)).to.deep.equal(['received'])
    await next.Fire('sold', { qty: 1, to: 'ok' })
    expect(await c.store.streamVersion('sku')).to.equal(2)
    await c.stopAll()
  })

  it('should fence a commit that waited in the mailbox while its instance stepped down (regression)', async () => {
    const c = cluster()
    const clock = new ManualClock(0)
    const leader = await c.instance(clock)
    let unblock: () => void = () => {}
    const busy = (leader as unknown as { mailbox: { post(t: () => Promise<void>): Promise<void> } }).mailbox.post(
      () => new Promise<void>((r) => (unblock = r)),
    )
    const queued = leader.Fire('received', { qty: 1 }) // decided as leader, waits behind the busy task
    await (leader as unknown as { stepDown(): Promise<void> }).stepDown() // deposed meanwhile
    unblock()
    await busy
    const err = await queued.catch((e: unknown) => e)
    expect(err).to.be.instanceOf(LeaseLostError)
    expect(await c.store.streamVersion('sku'), 'nothing stored without a current term').to.equal(0)
    await c.stopAll()
  })

  it('should refuse a precondition (invariants live in the handlers)', async () => {
    const c = cluster()
    const a = await c.instance(new ManualClock(0))
    const err = await a.Fire('received', { qty: 1 }, { precondition: () => true }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(TypeError)
    await c.stopAll()
  })
})
