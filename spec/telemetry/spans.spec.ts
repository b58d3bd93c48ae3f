import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, createContainer, defineEvents, type Container } from 'omniscient-actors'
import { registerSdk, spanLine, type SpanLine, type TestSdk } from '../support/telemetry.js'
import { waitUntil } from '../support/processes.js'

const CounterEvents = defineEvents({ added: z.object({ by: z.number() }) })
class Counter extends Actor<typeof CounterEvents, { total: number }> {
  static events = CounterEvents
  static snapshotEvery = 3
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.total = 0
  }
  added(data: { by: number }) {
    this._state.total += data.by
  }
}

const AuditEvents = defineEvents({ noted: z.object({ of: z.string() }) })
class Audit extends Actor<typeof AuditEvents> {
  static events = AuditEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this.ListenTo('c1', (e) => this.Fire('noted', { of: e.id }, { causedBy: e }).then(() => undefined))
  }
}

describe('OpenTelemetry spans', () => {
  let sdk: TestSdk | undefined
  let container: Container
  beforeEach(() => (container = createContainer({ store: new MemoryStore() })))
  afterEach(async () => {
    await container.close()
    await sdk?.shutdown()
    sdk = undefined
  })
  const finished = (): SpanLine[] => sdk!.spans.getFinishedSpans().map(spanLine)

  it('should store no traceparent and record nothing without an SDK registered', async () => {
    const counter = await new Counter('c1', container).Load()
    const stored = await counter.Fire('added', { by: 1 })
    expect(stored.meta).to.deep.equal({ actorType: 'Counter' })
  })

  it('should record a Fire span with its append inside and store its traceparent in the event', async () => {
    sdk = registerSdk()
    const counter = await new Counter('c1', container).Load()
    const stored = await counter.Fire('added', { by: 2 })
    const spans = finished()
    const fire = spans.find((s) => s.name === 'fire added')!
    const append = spans.find((s) => s.name === 'append')!
    expect(stored.meta.traceparent).to.equal(`00-${fire.traceId}-${fire.spanId}-01`)
    expect(fire.attributes).to.include({
      'messaging.system': 'omniscient-actors',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'c1',
      'messaging.message.id': stored.id,
      'omniscient.actor.type': 'Counter',
      'omniscient.event.version': 1,
      'omniscient.fire.attempts': 1,
    })
    expect(append).to.include({ traceId: fire.traceId, parentSpanId: fire.spanId })
    expect(append.attributes).to.include({ 'db.system.name': 'memory', 'db.operation.name': 'append', 'omniscient.append.attempt': 1, 'omniscient.append.expected_version': '0' })
  })

  it('should record a Load span with the events replayed and the snapshot it started from', async () => {
    const first = await new Counter('c1', container).Load()
    for (let i = 0; i < 4; i++) await first.Fire('added', { by: 1 })
    sdk = registerSdk()
    await new Counter('c1', container).Load()
    const load = finished().find((s) => s.name === 'load Counter')!
    expect(load.attributes).to.include({ 'omniscient.load.events_replayed': 1, 'omniscient.load.snapshot_version': 3 })
  })

  it("should make a listener's reaction a child of the Fire, and the Fire it causes a child of the reaction", async () => {
    sdk = registerSdk()
    await new Audit('audit', container).Load()
    const counter = await new Counter('c1', container).Load()
    const stored = await counter.Fire('added', { by: 1 })
    await waitUntil(() => finished().some((s) => s.name === 'fire noted'), 5_000, 'the reaction')
    const spans = finished()
    const fire = spans.find((s) => s.name === 'fire added')!
    const reaction = spans.find((s) => s.name === 'process added')!
    const caused = spans.find((s) => s.name === 'fire noted')!
    expect(reaction).to.include({ traceId: fire.traceId, parentSpanId: fire.spanId })
    expect(reaction.attributes).to.include({ 'messaging.operation.type': 'process', 'messaging.message.id': stored.id, 'omniscient.event.position': stored.position })
    expect(caused).to.include({ traceId: fire.traceId, parentSpanId: reaction.spanId })
    expect(caused.attributes).to.include({ 'omniscient.event.causation_id': stored.id })
  })

  it('should record nothing again once the SDK is gone', async () => {
    sdk = registerSdk()
    await sdk.shutdown()
    sdk = undefined
    const counter = await new Counter('c1', container).Load()
    const stored = await counter.Fire('added', { by: 1 })
    expect(stored.meta.traceparent).to.equal(undefined)
  })
})
