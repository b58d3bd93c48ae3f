import { expect } from 'chai'
import { z } from 'zod'
import { Actor, SqliteStore, createContainer, defineEvents, type Container, type EventData, type EventEnvelope } from 'omniscient-actors'
import { Projection, type Derived } from 'omniscient-actors/read'
import type { GaugeMetricData, HistogramMetricData } from '@opentelemetry/sdk-metrics'
import { Stock } from '../support/Stock.js'
import { waitUntil } from '../support/processes.js'
import { registerSdk, total, type TestSdk } from '../support/telemetry.js'
import { tempDir } from '../support/tmp.js'

const CounterEvents = defineEvents({ added: z.object({ by: z.number() }) })
class Counter extends Actor<typeof CounterEvents> {
  static events = CounterEvents
}

const heard: EventEnvelope[] = []
class Ear extends Actor<typeof CounterEvents> {
  static events = CounterEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this.ListenTo({ names: ['added'] }, (e) => void heard.push(e))
  }
}

const Doubled = defineEvents({ doubled: z.object({ by: z.number() }) })
class Doubling extends Projection<typeof CounterEvents, typeof Doubled> {
  static events = CounterEvents
  static derives = Doubled
  static leaseMs = 500
  added(data: EventData<typeof CounterEvents, 'added'>, event: EventEnvelope): Derived<typeof Doubled>[] {
    return [{ streamId: `doubled-${event.streamId}`, name: 'doubled', data: { by: data.by * 2 } }]
  }
}

function gauge(metric: unknown, where: Record<string, unknown> = {}): number | undefined {
  const points = (metric as GaugeMetricData | undefined)?.dataPoints ?? []
  return points.find((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))?.value
}

describe('OpenTelemetry metrics', function () {
  this.timeout(20_000)
  let sdk: TestSdk
  let tmp: ReturnType<typeof tempDir>
  let container: Container
  beforeEach(() => {
    heard.length = 0
    tmp = tempDir()
    sdk = registerSdk()
    container = createContainer({ store: new SqliteStore({ file: `${tmp.dir}/store.db` }), actors: { idleMs: 0 } })
  })
  afterEach(async () => {
    await container.close()
    await sdk.shutdown()
    tmp.remove()
  })

  it('should count appends, their latency and group sizes, and the delivery lag of a listener after a known workload', async () => {
    await new Ear('ear', container).Load()
    const counter = await new Counter('c1', container).Load()
    for (let i = 0; i < 10; i++) await counter.Fire('added', { by: 1 })
    // Five actors at once: their appends share group commits.
    await Promise.all([1, 2, 3, 4, 5].map((n) => new Counter(`c-${n}`, container).Fire('added', { by: n })))
    await waitUntil(() => heard.length === 15, 5_000, 'the listener')

    const m = await sdk.metrics()
    const sqlite = { 'db.system.name': 'sqlite', 'omniscient.actor.type': 'Counter' }
    expect(total(m.get('omniscient.events.appended'), sqlite)).to.equal(15)
    expect(total(m.get('omniscient.append.duration'), sqlite)).to.equal(15)
    expect(m.get('omniscient.append.duration')!.descriptor.unit).to.equal('s')
    const groups = (m.get('omniscient.append.group_size') as HistogramMetricData).dataPoints.find((p) => p.attributes['db.system.name'] === 'sqlite')!
    expect(groups.value.sum).to.equal(15)
    expect(groups.value.count).to.be.lessThan(15)
    expect(groups.value.max).to.be.greaterThan(1)
    expect(total(m.get('omniscient.delivery.lag'), { 'messaging.consumer.group.name': 'names added' })).to.equal(15)
  })

  it('should report the lag and stuck state of a projection, the leases held and the actors resident', async () => {
    const counter = await new Counter('c1', container).Load()
    let last: EventEnvelope | undefined
    for (let i = 0; i < 3; i++) last = await counter.Fire('added', { by: 1 })
    const doubling = await new Doubling(container).start()
    await doubling.waitFor(last!)
    const stock = await container.actors.get(Stock, 'sku-1')
    await waitUntil(() => stock.IsLeader, 5_000, 'the Stock to lead')

    let m = await sdk.metrics()
    const projection = { 'omniscient.read.kind': 'projection', 'omniscient.read.name': 'Doubling' }
    expect(gauge(m.get('omniscient.read.lag.positions'), projection)).to.equal(0)
    expect(gauge(m.get('omniscient.read.lag.seconds'), projection)).to.equal(0)
    expect(gauge(m.get('omniscient.read.stuck'), projection)).to.equal(0)
    expect(gauge(m.get('omniscient.lease.leading'), { 'omniscient.lease.kind': 'one' })).to.equal(1)
    expect(gauge(m.get('omniscient.lease.leading'), { 'omniscient.lease.kind': 'read' })).to.equal(1)
    expect(total(m.get('omniscient.lease.acquisitions'), { 'omniscient.lease.kind': 'one' })).to.equal(1)
    expect(gauge(m.get('omniscient.actors.resident'))).to.equal(1)

    await container.actors.sweep()
    await doubling.stop()
    m = await sdk.metrics()
    expect(total(m.get('omniscient.actors.passivations'))).to.equal(1)
    expect(gauge(m.get('omniscient.actors.resident'))).to.equal(0)
    expect(total(m.get('omniscient.lease.losses'), { 'omniscient.lease.kind': 'one' })).to.equal(1)
    expect(gauge(m.get('omniscient.lease.leading'), { 'omniscient.lease.kind': 'one' })).to.equal(0)
  })
})
