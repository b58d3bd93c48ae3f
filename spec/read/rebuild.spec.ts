import { expect } from 'chai'
import { join } from 'node:path'
import { z } from 'zod'
import { createContainer, defineEvents, SqliteStore, type Container, type EventData } from 'omniscient-actors'
import { ReadModel, type ReadModelProgress } from 'omniscient-actors/read'
import { waitUntil } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'

const Events = defineEvents({ scored: z.object({ points: z.number() }) })
type E = typeof Events
const PLAYERS = 20

// Version 1 sums the points; version 2 (a change of meaning) counts them too.
class ScoresV1 extends ReadModel<E, { total: number }> {
  static events = Events
  static modelName = 'scores'
  static version = 1
  static batchSize = 100
  scored(data: EventData<E, 'scored'>, event: { streamId: string }) {
    this.update(event.streamId, (doc = { total: 0 }) => ({ total: doc.total + data.points }))
  }
}

class ScoresV2 extends ReadModel<E, { total: number; count: number }> {
  static events = Events
  static modelName = 'scores'
  static version = 2
  static batchSize = 100
  scored(data: EventData<E, 'scored'>, event: { streamId: string }) {
    this.update(event.streamId, (doc = { total: 0, count: 0 }) => ({ total: doc.total + data.points, count: doc.count + 1 }))
  }
}

describe('a read model whose version changes', function () {
  this.timeout(60_000)
  let tmp: ReturnType<typeof tempDir>
  let container: Container
  beforeEach(() => {
    tmp = tempDir()
    container = createContainer({ store: new SqliteStore({ file: join(tmp.dir, 'store.db'), durability: 'normal' }), report: () => {} })
  })
  afterEach(async () => {
    await container.close()
    tmp.remove()
  })

  async function score(rounds: number) {
    for (let round = 0; round < rounds; round++) {
      await Promise.all(Array.from({ length: PLAYERS }, (_, p) => container.store.append(`player-${p}`, [{ id: `${round}-${p}-${Math.random()}`, name: 'scored', data: { points: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })))
    }
  }

  it('should be rebuilt beside the old one, which answers every query until the new one has caught up', async () => {
    await score(200) // 4,000 events
    const v1 = await new ScoresV1(container).start()
    await v1.waitFor(await container.store.headPosition())
    await v1.stop()
    expect(await v1.get('player-0')).to.deep.equal({ total: 200 })

    const v2 = new ScoresV2(container)
    const states: ReadModelProgress[] = []
    v2.onProgress((p) => states.push(p))
    const answers: unknown[] = []
    let querying = true
    const queries = (async () => {
      while (querying) {
        answers.push(await v2.get('player-0'))
        await new Promise((r) => setImmediate(r))
      }
    })()
    await v2.start()
    // waitFor alone would resolve at once: the old version has applied the head already.
    for (const deadline = Date.now() + 30_000; v2.progress().activeVersion !== 2; ) {
      if (Date.now() > deadline) throw new Error(`no switch: ${JSON.stringify(v2.progress())}`)
      await new Promise((r) => setTimeout(r, 5))
    }
    answers.push(await v2.get('player-0'))
    querying = false
    await queries

    // Never a half-built answer: the old version's, then the new version's whole one.
    const old = answers.filter((a) => JSON.stringify(a) === JSON.stringify({ total: 200 }))
    const fresh = answers.filter((a) => JSON.stringify(a) === JSON.stringify({ total: 200, count: 200 }))
    expect(old.length + fresh.length).to.equal(answers.length, `unexpected answers: ${JSON.stringify(answers.filter((a) => !old.includes(a) && !fresh.includes(a)).slice(0, 3))}`)
    expect(answers.indexOf(fresh[0])).to.equal(old.length) // all old ones come first
    expect(old.length).to.be.greaterThan(0)

    const building = states.filter((s) => s.state === 'building')
    expect(building.length).to.be.greaterThan(1)
    expect(building.at(-1)!.activeVersion).to.equal(1)
    expect(building.some((s) => s.position > 0 && s.position < s.head)).to.equal(true)
    expect(v2.progress()).to.include({ version: 2, activeVersion: 2 })
    await v2.waitFor(await container.store.headPosition())
    const storage = container.store.readModels!()
    expect((await storage.info('scores')).active).to.equal(2)

    // Live after the switch, on the new version.
    await score(1)
    await v2.waitFor(await container.store.headPosition())
    expect(await v2.get('player-0')).to.deep.equal({ total: 201, count: 201 })
    await v2.stop()
  })

  it('should not run an older version once a newer one is active, and answer from the newer one', async () => {
    await score(2)
    const v2 = await new ScoresV2(container).start()
    await v2.waitFor(await container.store.headPosition())
    await v2.stop()
    const v1 = await new ScoresV1(container).start()
    await waitUntil(() => v1.progress().state === 'superseded', 5_000, 'v1 to be superseded')
    expect(await v1.get('player-1')).to.deep.equal({ total: 2, count: 2 })
    await v1.stop()
  })

  it('should stop a running older version once a newer one is active', async () => {
    await score(2)
    const v1 = await new ScoresV1(container).start()
    await v1.waitFor(await container.store.headPosition())
    const v2 = await new ScoresV2(createContainer({ store: container.store, report: () => {} })).start()
    await waitUntil(() => v2.progress().activeVersion === 2, 10_000, 'v2 to become the active version')
    for (const deadline = Date.now() + 10_000; v1.progress().state !== 'superseded'; ) {
      if (Date.now() > deadline) throw new Error(`v1 is ${v1.progress().state}`)
      await score(1) // v1 notices at a commit, at most once a second
      await new Promise((r) => setTimeout(r, 100))
    }
    await v2.waitFor(await container.store.headPosition())
    expect(await v1.get('player-0')).to.deep.include({ count: (await v2.get('player-0'))!.count })
    await v1.stop()
    await v2.stop()
  })

  it('should notice it was replaced within 1.25 s while no events come, and give its lease up', async () => {
    await score(2)
    const v1 = await new ScoresV1(container).start()
    await v1.waitFor(await container.store.headPosition())
    await waitUntil(() => v1.progress().state === 'live', 10_000, 'v1 to be live')
    const v2 = await new ScoresV2(createContainer({ store: container.store, report: () => {} })).start()
    await waitUntil(() => v2.progress().activeVersion === 2, 10_000, 'v2 to become the active version')
    const switchedAt = Date.now()
    // No event comes: v1 learns from its own periodic check (every 250 ms, asking at most once a second).
    await waitUntil(() => v1.progress().state === 'superseded', 10_000, 'v1 to notice it was replaced')
    const noticedAfter = Date.now() - switchedAt
    expect(noticedAfter, `noticed after ${noticedAfter} ms`).to.be.below(1_250 + 750)
    expect(v1.progress().activeVersion).to.equal(2)
    await waitUntil(() => v1.progress().state === 'superseded', 1_000, 'v1 to stay superseded')
    const lease = await container.store.readLease('read/scores/v1')
    expect(lease!.expiresAt, "v1's lease is released").to.be.at.most(Date.now())
    await v1.stop()
    await v2.stop()
  })

  it('should switch a model of one stream to its new version though other streams have later events', async () => {
    class SoloV1 extends ScoresV1 {
      static override modelName = 'solo'
      static stream = 'player-0'
    }
    class SoloV2 extends ScoresV2 {
      static override modelName = 'solo'
      static stream = 'player-0'
    }
    await score(2)
    // The head is another stream's: player-0's last event is below it.
    await container.store.append('player-1', [{ id: 'last', name: 'scored', data: { points: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })
    const v1 = await new SoloV1(container).start()
    await waitUntil(() => v1.progress().state === 'live', 10_000, 'v1 to be live on its stream')
    const v2 = await new SoloV2(createContainer({ store: container.store, report: () => {} })).start()
    await waitUntil(() => v2.progress().activeVersion === 2, 10_000, 'v2 to become the active version')
    expect(await v2.get('player-0')).to.deep.equal({ total: 2, count: 2 })
    await v1.stop()
    await v2.stop()
  })
})
