import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, MemoryStore, systemClock, type Clock, type Container } from 'omniscient-actors'
import { Projection } from 'omniscient-actors/read'

const Events = defineEvents({ ordered: z.object({ item: z.string() }) })

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
})
