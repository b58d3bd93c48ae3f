import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, ManualClock, MemoryStore, systemClock, type Clock, type Container, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { Projection, ReadModel } from 'omniscient-actors/read'
import { silentLink } from '../support/silentLink.js'

const Events = defineEvents({ ordered: z.object({ item: z.string() }) })

// Holds the handler of the event at `position` until `open()`.
let gate: { position: number; reached: () => void; opened: Promise<void> } | undefined

class Counts extends ReadModel<typeof Events, { count: number }> {
  static events = Events
  static leaseMs = 60_000
  ordered(_data: unknown, event: EventEnvelope): void | Promise<void> {
    this.update(event.streamId, (doc = { count: 0 }) => ({ count: doc.count + 1 }))
    if (event.position === gate?.position) {
      gate.reached()
      return gate.opened
    }
  }
}

class Orders extends Projection<typeof Events> {
  static events = Events
  static leaseMs = 60_000
  ordered() {
    return []
  }
}

/** Loading the checkpoint (a projection's begin) fails while `failures` is above 0. */
class FlakyStore extends MemoryStore {
  failures = 0
  loads = 0
  override async loadCheckpoint(name: string): Promise<number | undefined> {
    this.loads++
    if (this.failures > 0) {
      this.failures--
      throw new Error('the store is away')
    }
    return super.loadCheckpoint(name)
  }
}

describe('Runner', () => {
  let store: FlakyStore
  let container: Container
  // The delay of each timer set right after a failed begin was reported: its retry.
  let retryDelays: number[]
  beforeEach(() => {
    store = new FlakyStore()
    retryDelays = []
    let retryNext = false
    const clock: Clock = {
      now: () => systemClock.now(),
      setTimeout(fn, ms) {
        if (retryNext) retryDelays.push(ms)
        retryNext = false
        return systemClock.setTimeout(fn, ms)
      },
    }
    const report = (_err: unknown, context?: { where?: string }) => {
      if (context?.where?.startsWith('start of')) retryNext = true
    }
    container = createContainer({ store, clock, report })
  })
  afterEach(() => container.close())

  async function live(projection: Orders): Promise<void> {
    for (const deadline = Date.now() + 10_000; projection.progress().state !== 'live'; ) {
      if (Date.now() > deadline) throw new Error(`not live: ${JSON.stringify(projection.progress())}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  it('should retry a failing begin with a backoff from 20 ms, doubling, and start over from it after a success', async () => {
    store.failures = 4
    const orders = await new Orders(container).start()
    await live(orders)
    expect(store.loads).to.equal(5)
    expect(retryDelays).to.deep.equal([20, 40, 80, 160])

    await orders.stop()
    retryDelays.length = 0
    store.failures = 2
    await orders.start()
    await live(orders)
    expect(retryDelays, 'the backoff starts over').to.deep.equal([20, 40])
  })

  it('should begin a new run only once the batch of the previous one has settled, skipping nothing', async () => {
    // 5,000 events: a first chunk of 4,096 is staged (not committed) while its handler waits.
    const events: NewEvent[] = Array.from({ length: 5_000 }, (_, i) => ({ id: `o-${i}`, name: 'ordered', data: { item: String(i) }, schemaVersion: 1, at: 0, meta: {} }))
    await store.append('shop', events, { expectedVersion: 0 })
    let open = () => {}
    const reached = new Promise<void>((resolve) => {
      gate = { position: 100, reached: resolve, opened: new Promise<void>((r) => (open = r)) }
    })
    // In memory: no lease, so stop and start act at once.
    const counts = await new (class extends Counts {
      static storage = 'memory' as const
      static modelName = 'counts'
    })(container).start()
    await reached
    // Stopped and started again while a handler of the first run still waits.
    const stopping = counts.stop()
    await new Promise((r) => setImmediate(r)) // stopped: the runner let go of its subscription
    await counts.start()
    await new Promise((r) => setTimeout(r, 50))
    gate = undefined
    open()
    await stopping
    await counts.waitFor(5_000, { timeoutMs: 10_000 })
    expect(await counts.get('shop')).to.deep.equal({ count: 5_000 })
  })
})

class ShortLeaseCounts extends ReadModel<typeof Events, { count: number }> {
  static events = Events
  static modelName = 'short-lease-counts'
  static leaseMs = 1_000
  ordered(_data: unknown, event: EventEnvelope): void {
    this.update(event.streamId, (doc = { count: 0 }) => ({ count: doc.count + 1 }))
  }
}

describe('Runner whose lease expires here', () => {
  const order = (id: string): NewEvent => ({ id, name: 'ordered', data: { item: id }, schemaVersion: 1, at: 0, meta: {} })
  const settle = () => new Promise((r) => setTimeout(r, 5))

  it('should stop applying at the lease\'s local expiry while its lease calls hang, and another process take over', async () => {
    const clock = new ManualClock(0)
    const store = new MemoryStore()
    const link = silentLink(store, ['acquireLease', 'renewLease', 'releaseLease'])
    const cut = await new ShortLeaseCounts(createContainer({ store: link.store, clock, report: () => {} })).start()
    const other = await new ShortLeaseCounts(createContainer({ store, clock, report: () => {} })).start()
    await store.append('a', [order('o-1')], { expectedVersion: 'any' })
    for (let i = 0; i < 20 && cut.progress().position < 1; i++) await settle()
    expect(cut.progress()).to.include({ state: 'live', position: 1 })
    link.silence() // its renewal at 250 never answers: it leads until 0 + 1000 - 100
    for (let t = 0; t < 890; t += 10) {
      clock.advance(10)
      await settle()
    }
    expect(cut.progress().state).to.equal('live')
    clock.advance(10)
    await settle()
    expect(cut.progress().state, 'at 900').to.equal('standby')
    await store.append('a', [order('o-2')], { expectedVersion: 'any' })
    await settle()
    expect(cut.progress().position, 'nothing applied after the expiry').to.equal(1)
    for (let t = 900; t < 1_500; t += 10) {
      clock.advance(10)
      await settle()
    }
    expect(other.progress()).to.include({ state: 'live', position: 2 })
    expect(await other.get('a')).to.deep.equal({ count: 2 })
    link.speak()
    await Promise.all([cut.stop(), other.stop()])
  })
})
