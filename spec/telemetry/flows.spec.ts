import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, createContainer, defineEvents, type Container, type EventData, type EventEnvelope } from 'omniscient-actors'
import { Projection, type Derived } from 'omniscient-actors/read'
import { RemoteStore } from 'omniscient-actors/sync'
import { collect } from '../store/conformance.js'
import { Stock } from '../support/Stock.js'
import { waitUntil } from '../support/processes.js'
import { registerSdk, spanLine, type SpanLine, type TestSdk } from '../support/telemetry.js'
import { syncServerEachTest } from '../sync/syncServer.js'

const OrderEvents = defineEvents({ ordered: z.object({ item: z.string() }) })
class Order extends Actor<typeof OrderEvents> {
  static events = OrderEvents
}
const ShipEvents = defineEvents({ shipped: z.object({ item: z.string() }) })
class Shipping extends Projection<typeof OrderEvents, typeof ShipEvents> {
  static events = OrderEvents
  static derives = ShipEvents
  static leaseMs = 500
  ordered(data: EventData<typeof OrderEvents, 'ordered'>, event: EventEnvelope): Derived<typeof ShipEvents>[] {
    return [{ streamId: `shipment-${event.streamId}`, name: 'shipped', data: { item: data.item } }]
  }
}

describe('OpenTelemetry spans of projections, proposals and sync', function () {
  this.timeout(20_000)
  let sdk: TestSdk
  const containers: Container[] = []
  beforeEach(() => (sdk = registerSdk()))
  afterEach(async () => {
    for (const c of containers.splice(0)) await c.close()
    await sdk.shutdown()
  })
  const finished = (): SpanLine[] => sdk.spans.getFinishedSpans().map(spanLine)
  const named = (name: string): SpanLine => {
    const span = finished().find((s) => s.name === name)
    if (!span) throw new Error(`no span "${name}" among ${finished().map((s) => s.name).join(', ')}`)
    return span
  }

  it("should run a projection's batch of one event in that event's trace, and store the trace in what it derives", async () => {
    const container = createContainer({ store: new MemoryStore() })
    containers.push(container)
    const shipping = await new Shipping(container).start()
    const stored = await new Order('o1', container).Fire('ordered', { item: 'a' })
    await shipping.waitFor(stored)
    const fire = named('fire ordered')
    const batch = named('projection Shipping')
    expect(batch).to.include({ traceId: fire.traceId, parentSpanId: fire.spanId })
    expect(batch.attributes).to.include({ 'messaging.batch.message_count': 1, 'messaging.consumer.group.name': 'Shipping', 'omniscient.read.kind': 'projection' })
    const [derived] = await collect(container.store.readStream('shipment-o1'))
    expect(derived!.meta.traceparent).to.equal(stored.meta.traceparent)
  })

  it("should trace a OneActor proposal from the follower's Fire to the leader's commit", async () => {
    const store = new MemoryStore()
    const leaderSide = createContainer({ store })
    const followerSide = createContainer({ store })
    containers.push(followerSide, leaderSide)
    const leader = await new Stock('sku-1', leaderSide).Load()
    await waitUntil(() => leader.IsLeader, 5_000, 'a leader')
    await leader.Fire('received', { qty: 5 })
    const follower = await new Stock('sku-1', followerSide).Load()
    const sold = await follower.Fire('sold', { qty: 1, to: 'ann' })
    await waitUntil(() => finished().some((s) => s.name === 'process proposed'), 5_000, "the leader's span")

    const fire = finished().find((s) => s.name === 'fire sold')!
    const handling = named('process proposed')
    const lead = named('lead sold')
    const append = finished().find((s) => s.name === 'append' && s.parentSpanId === lead.spanId)!
    expect(fire.attributes).to.include({ 'omniscient.fire.role': 'proposer', 'messaging.message.id': sold.id })
    expect(handling).to.include({ traceId: fire.traceId, parentSpanId: fire.spanId })
    expect(lead).to.include({ traceId: fire.traceId, parentSpanId: handling.spanId })
    expect(append.attributes).to.have.property('omniscient.lease.term').that.is.greaterThan(0)
    expect(sold.meta.traceparent).to.equal(`00-${fire.traceId}-${fire.spanId}-01`)
    await Promise.all([follower.Stop(), leader.Stop()])
  })

  describe('over HTTP', () => {
    const server = syncServerEachTest({ authorize: () => true })

    it("should continue the device's request span on the sync server", async () => {
      const remote = new RemoteStore({ url: server.current.url, token: 'token-alice' })
      const device = createContainer({ store: remote })
      let stored: EventEnvelope
      try {
        stored = await new Order('o2', device).Fire('ordered', { item: 'b' })
      } finally {
        await device.close()
      }
      const pair = () => {
        const serverSpan = finished().find((s) => s.kind === 1 /* SERVER */ && s.name === 'POST /streams')
        const clientSpan = serverSpan && finished().find((s) => s.spanId === serverSpan.parentSpanId)
        return clientSpan && { serverSpan, clientSpan }
      }
      await waitUntil(() => pair() !== undefined, 5_000, 'the server span and its client span')
      const { serverSpan, clientSpan } = pair()!
      expect(clientSpan.kind).to.equal(2) // CLIENT
      expect(clientSpan.name).to.equal(serverSpan.name)
      expect(serverSpan.attributes).to.include({ 'http.request.method': 'POST', 'http.response.status_code': 200 })
      const [onServer] = await collect(server.current.container.store.readStream('o2'))
      expect(onServer!.meta.traceparent).to.equal(stored.meta.traceparent)
    })
  })
})
