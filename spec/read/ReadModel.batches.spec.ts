import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, MemoryStore, type Container, type EventData, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { ReadModel } from 'omniscient-actors/read'
import type { ReadModelBatch, ReadModelStorage } from '../../lib/read/ReadModelStorage.js'

// How a read model groups a catch-up into commits: chunks of events are staged into one open
// batch (documents only), committed together, and a failure never applies an event twice.

const Counted = defineEvents({ added: z.object({ n: z.number() }) })
type Doc = { sum: number; count: number }
const STREAMS = 10

let failAt: number | undefined
class Sums extends ReadModel<typeof Counted, Doc> {
  static events = Counted
  added(data: EventData<typeof Counted, 'added'>, event: EventEnvelope) {
    if (event.position === failAt) throw new Error(`refused ${event.position}`)
    this.update(event.streamId, (doc = { sum: 0, count: 0 }) => ({ sum: doc.sum + data.n, count: doc.count + 1 }))
  }
}

/** A MemoryStore whose read model storage records each commit, and fails the first `failing` of them. */
class RecordingStore extends MemoryStore {
  readonly batches: ReadModelBatch[] = []
  failing = 0
  private wrapped: ReadModelStorage | undefined
  override readModels(): ReadModelStorage {
    const inner = super.readModels()
    this.wrapped ??= Object.assign(Object.create(inner) as ReadModelStorage, {
      commit: async (batch: ReadModelBatch) => {
        if (this.failing > 0) {
          this.failing--
          throw new Error('the disk is full')
        }
        this.batches.push(batch)
        return inner.commit(batch)
      },
    })
    return this.wrapped
  }
}

async function fill(store: MemoryStore, count: number): Promise<void> {
  for (let s = 0; s < STREAMS; s++) {
    const events: NewEvent[] = []
    for (let i = 0; i < count / STREAMS; i++) events.push({ id: `e-${s}-${i}`, name: 'added', data: { n: i }, schemaVersion: 1, at: 0, meta: {} })
    await store.append(`s-${s}`, events, { expectedVersion: 'any' })
  }
}

function fold(count: number): Doc {
  const per = count / STREAMS
  return { sum: (per * (per - 1)) / 2, count: per }
}

describe('ReadModel batches', () => {
  let store: RecordingStore
  let container: Container
  const reports: unknown[] = []
  beforeEach(() => {
    failAt = undefined
    reports.length = 0
    store = new RecordingStore()
    container = createContainer({ store, report: (err) => reports.push(err) })
  })
  afterEach(() => container.close())

  it('should commit a catch-up of 40,000 events in one batch, each document written once', async () => {
    await fill(store, 40_000)
    const sums = await new Sums(container).start()
    await sums.waitFor(40_000)
    // Staged a chunk at a time, committed together: not one commit per 4,096-event chunk.
    expect(store.batches.length).to.be.at.most(2)
    for (const batch of store.batches) expect(batch.writes.length).to.be.at.most(STREAMS)
    expect(store.batches.at(-1)!.to).to.equal(40_000)
    for (let s = 0; s < STREAMS; s++) expect(await sums.get(`s-${s}`)).to.deep.equal(fold(40_000))
    await sums.stop()
  })

  it('should commit at most batchSize events at a time', async () => {
    await fill(store, 40_000)
    const sums = await new (class extends Sums {
      static batchSize = 10_000
    })(container).start()
    await sums.waitFor(40_000)
    expect(store.batches.length).to.be.at.least(4)
    for (const batch of store.batches) expect(batch.to - batch.from).to.be.at.most(10_000)
    for (let s = 0; s < STREAMS; s++) expect(await sums.get(`s-${s}`)).to.deep.equal(fold(40_000))
    await sums.stop()
  })

  it('should retry a failed commit without applying its events twice', async () => {
    await fill(store, 20_000)
    store.failing = 2
    const sums = await new Sums(container).start()
    await sums.waitFor(20_000)
    expect(reports.map((err) => (err as Error).message)).to.deep.equal(['the disk is full', 'the disk is full'])
    for (let s = 0; s < STREAMS; s++) expect(await sums.get(`s-${s}`)).to.deep.equal(fold(20_000))
    await sums.stop()
  })

  it('should commit what came before a failing handler, even from chunks staged earlier, and resume there', async () => {
    await fill(store, 20_000)
    failAt = 15_000
    const sums = await new Sums(container).start()
    await sums.waitFor(14_999)
    const stuck = await new Promise<ReturnType<Sums['progress']>>((resolve) => {
      const check = () => (sums.progress().state === 'stuck' ? resolve(sums.progress()) : setTimeout(check, 5))
      check()
    })
    expect(stuck.stuck?.event.position).to.equal(15_000)
    expect(stuck.position).to.equal(14_999)
    expect(await store.readModels().activeCheckpoint('Sums')).to.equal(14_999)
    failAt = undefined
    await sums.waitFor(20_000)
    for (let s = 0; s < STREAMS; s++) expect(await sums.get(`s-${s}`)).to.deep.equal(fold(20_000))
    await sums.stop()
  })
})
