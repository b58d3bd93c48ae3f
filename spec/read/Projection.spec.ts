import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, MemoryStore, type Container, type EventData, type EventEnvelope, type StorageAdapter } from 'omniscient-actors'
import { Projection, type Derived } from 'omniscient-actors/read'
import { collect } from '../store/conformance.js'
import { FollowProjection } from '../../examples/follow/FollowProjection.js'
import { User } from '../../examples/follow/User.js'

const Events = defineEvents({ ordered: z.object({ items: z.array(z.string()) }), shipped: z.object({ item: z.string() }) })
type E = typeof Events

let failOn: string | undefined
class Shipping extends Projection<E, E> {
  static events = Events
  static derives = Events
  static leaseMs = 200
  ordered(data: EventData<E, 'ordered'>, event: EventEnvelope): Derived<E>[] {
    if (data.items.includes(failOn ?? '')) throw new Error(`cannot ship ${failOn}`)
    return data.items.map((item) => ({ streamId: `shipment-${event.streamId}`, name: 'shipped', data: { item } }))
  }
}

function order(store: StorageAdapter, id: string, items: string[], correlationId?: string) {
  return store.append(id, [{ id: `${id}-ordered`, name: 'ordered', data: { items }, schemaVersion: 1, at: 1, meta: correlationId ? { correlationId } : {} }], { expectedVersion: 'any' })
}

describe('Projection', () => {
  let store: MemoryStore
  let reports: Array<{ err: unknown; event?: EventEnvelope; where: string }>
  let container: Container
  beforeEach(() => {
    failOn = undefined
    store = new MemoryStore()
    reports = []
    container = createContainer({ store, report: (err, context) => reports.push({ err, ...context }) })
  })
  afterEach(() => container.close())

  it('should store the derived events with the source as causation, its correlation and deterministic ids', async () => {
    const { events: [source] } = await order(store, 'o1', ['a', 'b'], 'corr-1')
    const shipping = await new Shipping(container).start()
    await shipping.waitFor(source!)
    const shipped = await collect(store.readStream('shipment-o1'))
    expect(shipped.map((e) => e.data)).to.deep.equal([{ item: 'a' }, { item: 'b' }])
    for (const e of shipped) expect(e.meta).to.include({ causationId: source!.id, correlationId: 'corr-1', actorType: 'Shipping' })
    expect(new Set(shipped.map((e) => e.id)).size).to.equal(2)
    await shipping.stop()
  })

  it('should store each derived event once when it runs again from the start', async () => {
    const last = (await order(store, 'o1', ['a'])).events[0]!
    const first = await new Shipping(container).start()
    await first.waitFor(last)
    await first.stop()
    await store.saveCheckpoint(first.checkpointName, 0) // as if the checkpoint had been lost
    const again = await new Shipping(container).start()
    await again.waitFor(last)
    expect((await collect(store.readStream('shipment-o1'))).length).to.equal(1)
    await again.stop()
  })

  it('should report a throwing handler with its event, show it stuck there, and skip nothing', async () => {
    await order(store, 'o1', ['a'])
    const bad = (await order(store, 'o2', ['poison'])).events[0]!
    const after = (await order(store, 'o3', ['c'])).events[0]!
    failOn = 'poison'
    const shipping = await new Shipping(container).start()
    for (const deadline = Date.now() + 5_000; shipping.progress().stuck?.attempts !== 3; ) {
      if (Date.now() > deadline) throw new Error(`not stuck: ${JSON.stringify(shipping.progress())}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    const progress = shipping.progress()
    expect(progress.state).to.equal('stuck')
    expect(progress.stuck!.event.id).to.equal(bad.id)
    expect((progress.stuck!.error as Error).message).to.equal('cannot ship poison')
    expect(reports.filter((r) => r.event?.id === bad.id).length).to.be.at.least(3)
    expect(await collect(store.readStream('shipment-o1'))).to.have.length(1) // what came before is stored
    expect(await collect(store.readStream('shipment-o3'))).to.have.length(0) // what comes after waits
    failOn = undefined
    await shipping.waitFor(after, { timeoutMs: 10_000 })
    expect((await collect(store.readStream('shipment-o2'))).map((e) => e.data)).to.deep.equal([{ item: 'poison' }])
    expect(shipping.progress().stuck).to.equal(undefined)
    await shipping.stop()
  })

  it('should run in one process of several, and be taken over when that one stops', async () => {
    const other = createContainer({ store, report: () => {} })
    const a = await new Shipping(container).start()
    const b = await new Shipping(other).start()
    const first = (await order(store, 'o1', ['a'])).events[0]!
    await a.waitFor(first)
    await b.waitFor(first)
    const running = [a, b].filter((p) => p.progress().state === 'live' || p.progress().state === 'catching-up')
    expect(running).to.have.length(1)
    await running[0]!.stop()
    const second = (await order(store, 'o2', ['b'])).events[0]!
    const survivor = running[0] === a ? b : a
    await survivor.waitFor(second, { timeoutMs: 5_000 })
    expect(await collect(store.readStream('shipment-o2'))).to.have.length(1)
    await survivor.stop()
  })

  it('should resolve waitFor at once for an envelope of a stream it does not read (static stream)', async () => {
    class ShippingOfO1 extends Shipping {
      static stream = 'o1'
    }
    await order(store, 'o1', ['a'])
    const other = (await order(store, 'o2', ['b'])).events[0]!
    const shipping = await new ShippingOfO1(container).start()
    // Its checkpoint moves only with o1's events: o2's position may never be reached.
    await shipping.waitFor(other, { timeoutMs: 200 })
    expect(await collect(store.readStream('shipment-o2'))).to.have.length(0)
    await shipping.stop()
  })

  it("should derive the seed's WasFollowed on the followed user's stream", async () => {
    const projection = await new FollowProjection(container).start()
    const followed = await (await new User('alice', container).Load()).Follow('bob')
    await projection.waitFor(followed)
    const [was] = await collect(store.readStream('bob'))
    expect(was).to.deep.include({ name: 'WasFollowed', data: { by: 'alice' } })
    expect(was!.meta.causationId).to.equal(followed.id)
    await projection.stop()
  })
})
