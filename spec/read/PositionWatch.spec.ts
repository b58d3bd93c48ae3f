import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, MemoryStore, type Container, type EventEnvelope } from 'omniscient-actors'
import { ReadModel, WaitForTimeoutError } from 'omniscient-actors/read'

// waitFor in a process that does not run the model polls the stored position: one poll for
// all the waiters of a model, backing off while the position does not move.

const Events = defineEvents({ noted: z.object({ n: z.number() }) })

class Solo extends ReadModel<typeof Events, { n: number }> {
  static events = Events
  static leaseMs = 60_000
  noted(data: { n: number }, event: EventEnvelope) {
    this.set(event.streamId, data)
  }
}
class Crowd extends Solo {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('waitFor in a process that does not run the model', () => {
  let store: MemoryStore
  let reads: Map<string, number>
  let querying: Container
  let running: Container
  beforeEach(() => {
    store = new MemoryStore()
    reads = new Map()
    // Count the reads of the stored position, per model.
    const storage = store.readModels()
    const activeCheckpoint = storage.activeCheckpoint.bind(storage)
    storage.activeCheckpoint = (model) => {
      reads.set(model, (reads.get(model) ?? 0) + 1)
      return activeCheckpoint(model)
    }
    querying = createContainer({ store, report: () => {} })
    running = createContainer({ store, report: () => {} })
  })
  afterEach(async () => {
    await running.close()
    await querying.close()
  })

  it('should serve 100 waiters with as many reads as one, backing off while nothing changes', async () => {
    const { events: [event] } = await store.append('s', [{ id: 'e1', name: 'noted', data: { n: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })
    const solo = new Solo(querying)
    const crowd = new Crowd(querying)
    const waiting = [solo.waitFor(event!), ...Array.from({ length: 100 }, () => crowd.waitFor(event!))]
    await sleep(300) // nothing runs the models: nothing changes
    const soloReads = reads.get('Solo') ?? 0
    const crowdReads = reads.get('Crowd') ?? 0
    // Polling every 2 ms would read about 150 times in 300 ms (and 100 waiters 15,000 times).
    expect(soloReads, 'reads of one waiter in 300 ms').to.be.within(1, 60)
    expect(crowdReads, 'reads of 100 waiters').to.be.at.most(soloReads * 2 + 2)

    await new Solo(running).start()
    await new Crowd(running).start()
    await Promise.all(waiting)
    expect(await crowd.get('s')).to.deep.equal({ n: 1 })
  })

  it('should resolve a waiter at once, with one read, when the position is reached already', async () => {
    const { events: [event] } = await store.append('s', [{ id: 'e1', name: 'noted', data: { n: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })
    const model = await new Solo(running).start()
    await model.waitFor(event!)
    reads.clear()
    const solo = new Solo(querying)
    await solo.waitFor(event!, { timeoutMs: 0 })
    expect(reads.get('Solo')).to.equal(1)
    await Promise.all(Array.from({ length: 10 }, () => solo.waitFor(event!, { timeoutMs: 0 })))
    expect(reads.get('Solo'), 'a position seen reached needs no read').to.equal(1)
  })

  it('should time each waiter out on its own, the others still waiting', async () => {
    const solo = new Solo(querying)
    const short = solo.waitFor(5, { timeoutMs: 30 }).then(() => undefined, (err: unknown) => err)
    const long = solo.waitFor(1, { timeoutMs: 5_000 })
    expect(await short).to.be.instanceOf(WaitForTimeoutError).and.to.include({ position: 5, reached: 0, timeoutMs: 30 })
    await store.append('s', [{ id: 'e1', name: 'noted', data: { n: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })
    await new Solo(running).start()
    await long
  })
})
