import { join } from 'node:path'
import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, SnapshotInvalidError, SqliteStore, createContainer, defineEvents, type Container, type StorageAdapter } from 'omniscient-actors'
import { tempDir } from '../support/tmp.js'

const CountEvents = defineEvents({ added: z.object({ n: z.number() }) })

class Counter extends Actor<typeof CountEvents, { total: number }> {
  static events = CountEvents
  static snapshotEvery = 2
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.total = 0
  }
  added(data: { n: number }) {
    this._state.total += data.n
  }
}

const engines: Array<{ name: string; open: () => { store: StorageAdapter; dispose: () => void } }> = [
  { name: 'MemoryStore', open: () => ({ store: new MemoryStore(), dispose: () => {} }) },
  {
    name: 'SqliteStore',
    open: () => {
      const tmp = tempDir()
      return { store: new SqliteStore({ file: join(tmp.dir, 'snapshots.db') }), dispose: tmp.remove }
    },
  },
]

for (const engine of engines) describe(`A snapshot that cannot be true, on ${engine.name}`, () => {
  let env: ReturnType<(typeof engines)[number]['open']>
  let reported: unknown[]
  let container: Container
  beforeEach(async () => {
    env = engine.open()
    reported = []
    container = createContainer({ store: env.store, report: (err) => reported.push(err) })
    const counter = await new Counter('c', container).Load()
    for (const n of [1, 2, 3]) await counter.Fire('added', { n })
  })
  afterEach(async () => {
    await container.close()
    env.dispose()
  })

  const bogus = (version: unknown) =>
    env.store.saveSnapshot({ actorType: 'Counter', streamId: 'c', snapshotVersion: 1, version: version as number, state: { total: 1000 }, at: 0 })

  it('should report a snapshot past the stream head, ignore it, replay the stream and fire again', async () => {
    await bogus(10)
    const counter = await new Counter('c', container).Load()
    expect(counter._state.total).to.equal(6)
    expect(counter.version).to.equal(3)
    expect(reported).to.have.length(1)
    expect(reported[0]).to.be.instanceOf(SnapshotInvalidError).and.include({ code: 'SNAPSHOT_INVALID', streamId: 'c', snapshotVersion: 10, streamVersion: 3 })
    await counter.Fire('added', { n: 4 })
    expect(counter._state.total).to.equal(10)
    // The replay took a true snapshot in its place.
    expect((await env.store.loadSnapshot('Counter', 'c'))?.version).to.be.at.most(4)
  })

  // SQLite's INTEGER column turns '2' into 2 and refuses null: those reach only MemoryStore's JSON.
  for (const version of engine.name === 'MemoryStore' ? [0, -1, 1.5, '2', null] : [0, -1, 1.5]) {
    it(`should report a snapshot whose version is ${JSON.stringify(version)}, ignore it and replay the stream`, async () => {
      await bogus(version)
      const counter = await new Counter('c', container).Load()
      expect(counter._state.total).to.equal(6)
      expect(counter.version).to.equal(3)
      expect(reported).to.have.length(1)
      expect(reported[0]).to.be.instanceOf(SnapshotInvalidError).and.include({ snapshotVersion: version })
    })
  }

  it('should still trust a snapshot at the head or below it', async () => {
    await env.store.saveSnapshot({ actorType: 'Counter', streamId: 'c', snapshotVersion: 1, version: 3, state: { total: 6 }, at: 0 })
    const counter = await new Counter('c', container).Load()
    expect(counter._state.total).to.equal(6)
    expect(reported).to.deep.equal([])
  })
})
