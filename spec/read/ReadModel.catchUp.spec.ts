import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, type Container, type EventData, type EventEnvelope, type NewEvent, type StorageAdapter } from 'omniscient-actors'
import { ReadModel } from 'omniscient-actors/read'
import type { ReadModelBatch } from '../../lib/read/ReadModelStorage.js'
import { freshTarget, openStore, storeKinds } from '../support/openStore.js'

// A catch-up is committed in big batches on every engine: on those whose reads are
// asynchronous (PostgreSQL), pages keep being staged into the open batch while the next is
// read, instead of a commit after each page.

const Counted = defineEvents({ added: z.object({ n: z.number() }) })
type Doc = { sum: number; count: number }
const STREAMS = 10
const EVENTS = 20_000

class Sums extends ReadModel<typeof Counted, Doc> {
  static events = Counted
  added(data: EventData<typeof Counted, 'added'>, event: EventEnvelope) {
    this.update(event.streamId, (doc = { sum: 0, count: 0 }) => ({ sum: doc.sum + data.n, count: doc.count + 1 }))
  }
}

/** Appends `count` events over STREAMS streams, in order of stream; resolves with the last one of each stream. */
async function fill(store: StorageAdapter, count: number): Promise<EventEnvelope[]> {
  const last: EventEnvelope[] = []
  for (let s = 0; s < STREAMS; s++) {
    const events: NewEvent[] = []
    for (let i = 0; i < count / STREAMS; i++) events.push({ id: `e-${s}-${i}`, name: 'added', data: { n: i }, schemaVersion: 1, at: 0, meta: {} })
    let stored: readonly EventEnvelope[] = []
    for (let i = 0; i < events.length; i += 1_000) stored = (await store.append(`s-${s}`, events.slice(i, i + 1_000), { expectedVersion: 'any' })).events
    last.push(stored.at(-1)!)
  }
  return last
}

/** Records each commit of the store's read model storage. */
function recordCommits(store: StorageAdapter): ReadModelBatch[] {
  const batches: ReadModelBatch[] = []
  const storage = store.readModels!()
  const commit = storage.commit.bind(storage)
  storage.commit = (batch) => {
    batches.push(batch)
    return commit(batch)
  }
  return batches
}

for (const kind of storeKinds) describe(`a read model catching up, on ${kind.name}`, function () {
  this.timeout(60_000)
  const fresh = freshTarget(kind)
  let store: StorageAdapter
  let container: Container
  beforeEach(() => {
    store = openStore(fresh.target)
    container = createContainer({ store, report: () => {} })
  })
  afterEach(() => container.close())

  // One commit where the whole catch-up fits a batch; a page read slower than the runner's idle
  // wait (100 ms, on a loaded machine) may add one. Committing after each page made 9 or more.
  it(`should commit ${EVENTS.toLocaleString('en-US')} events in a few commits, not one per page`, async () => {
    await fill(store, EVENTS)
    const batches = recordCommits(store)
    const sums = await new Sums(container).start()
    await sums.waitFor(await store.headPosition())
    expect(batches.length, `commits of ${batches.map((b) => b.to - b.from).join(', ')} events`).to.be.at.most(3)
    expect(await sums.get('s-3')).to.deep.equal({ sum: ((EVENTS / STREAMS) * (EVENTS / STREAMS - 1)) / 2, count: EVENTS / STREAMS })
  })

  it('should commit the end of a catch-up that stops below the head (one stream of several)', async () => {
    const last = await fill(store, EVENTS)
    const batches = recordCommits(store)
    const sums = await new (class extends Sums {
      static modelName = 'SumsOfS3'
      static stream = 's-3'
    })(container).start()
    await sums.waitFor(last[3]!.position, { timeoutMs: 20_000 })
    expect(batches.length).to.be.at.most(2)
    expect(await sums.get('s-3')).to.deep.include({ count: EVENTS / STREAMS })
  })
})
