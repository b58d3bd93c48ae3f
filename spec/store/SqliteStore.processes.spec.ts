import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'chai'
import { SqliteStore, StorageError } from 'omniscient-actors'
import { startTogether, startWorker, waitUntil } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'
import { collect, newEvent } from './conformance.js'

describe('SqliteStore across processes', function () {
  this.timeout(60_000)
  let tmp: ReturnType<typeof tempDir>
  let file: string
  beforeEach(() => {
    tmp = tempDir()
    file = join(tmp.dir, 'shared.db')
  })
  afterEach(() => tmp.remove())

  it('should open a new file from 4 processes at once, round after round, every time', async () => {
    // Regression: two processes switching a new file to WAL at once got SQLITE_BUSY at once,
    // without the busy timeout, and the store failed to open (seen in CI, 1 round in 10 here).
    const rounds = 12
    const workers = ['p0', 'p1', 'p2', 'p3'].map((label) => startWorker('opener', [tmp.dir, label, String(rounds)]))
    await waitUntil(() => workers.every((w) => w.lines.includes('ready')), 30_000, 'every worker to be ready')
    for (let round = 0; round < rounds; round++) {
      writeFileSync(join(tmp.dir, `go-${round}`), 'go')
      await waitUntil(() => workers.every((w) => w.lines.some((l) => l === `opened ${round}` || l.startsWith(`failed ${round} `))), 30_000, `round ${round}`)
    }
    expect(await Promise.all(workers.map((w) => w.exited))).to.deep.equal([0, 0, 0, 0])
    const failures = workers.flatMap((w) => w.lines.filter((l) => l.startsWith('failed')))
    expect(failures).to.deep.equal([])
    for (let round = 0; round < rounds; round++) {
      const store = new SqliteStore({ file: join(tmp.dir, `db-${round}.db`) })
      expect((await collect(store.readStream('s'))).map((e) => e.id).sort()).to.deep.equal(['p0', 'p1', 'p2', 'p3'].map((p) => `${p}-${round}`))
      await store.close()
    }
  })

  it('should keep one gap-free stream when 4 processes append to it at once', async () => {
    const perProcess = 150
    const go = join(tmp.dir, 'go')
    const workers = ['p0', 'p1', 'p2', 'p3'].map((label) => startWorker('contendedAppender', [file, 'shared', label, String(perProcess), go]))
    await startTogether(workers, go)
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).to.deep.equal([0, 0, 0, 0])

    const store = new SqliteStore({ file })
    const events = await collect(store.readStream('shared'))
    await store.close()
    expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: 4 * perProcess }, (_, i) => i + 1))
    expect(new Set(events.map((e) => e.id)).size).to.equal(4 * perProcess)
    for (const label of ['p0', 'p1', 'p2', 'p3']) {
      // Each process's own events keep the order it wrote them in.
      const mine = events.filter((e) => e.id.startsWith(`${label}-`)).map((e) => (e.data as { i: number }).i)
      expect(mine).to.deep.equal(Array.from({ length: perProcess }, (_, i) => i))
    }
    const conflicts = workers.reduce((sum, w) => sum + Number(w.lines.at(-1)?.split(' ')[1] ?? 0), 0)
    expect(conflicts, 'the processes did compete').to.be.greaterThan(0)
  })

  it('should never store part of a batch when the writer is killed with kill -9', async function () {
    const size = 100
    // `npm run test:faults` raises the count for a longer soak.
    const rounds = Number(process.env['FAULT_ROUNDS'] ?? 3)
    this.timeout(30_000 + rounds * 5_000)
    for (let round = 0; round < rounds; round++) {
      const worker = startWorker('batchAppender', [file, 'bulk', String(size)])
      const target = 5 + (round % 5) * 7
      await waitUntil(() => worker.lines.length >= target, 30_000, `${target} acknowledged batches`)
      // A random moment, most likely in the middle of an append.
      await new Promise((r) => setTimeout(r, Math.random() * 20))
      worker.kill('SIGKILL')
      await worker.exited
      const acked = Math.max(...worker.lines.map((l) => Number(l.split(' ')[1])))

      const raw = new Database(file)
      expect(raw.pragma('integrity_check', { simple: true })).to.equal('ok')
      raw.close()
      const store = new SqliteStore({ file })
      const events = await collect(store.readStream('bulk'))
      await store.close()
      expect(events.length % size, 'only whole batches are stored').to.equal(0)
      expect(events.length, 'every acknowledged batch survived').to.be.at.least(acked)
      expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: events.length }, (_, i) => i + 1))
      expect(new Set(events.map((e) => e.id)).size).to.equal(events.length)
    }
  })

  it('should see, from a second connection, what the first one committed', async () => {
    const a = new SqliteStore({ file })
    const b = new SqliteStore({ file })
    await a.append('s', [newEvent()], { expectedVersion: 0 })
    expect(await b.streamVersion('s')).to.equal(1)
    const err = await b.append('s', [newEvent()], { expectedVersion: 0 }).catch((e: unknown) => e)
    expect(err).to.have.property('code', 'CONCURRENCY')
    await Promise.all([a.close(), b.close()])
  })
})

describe('SqliteStore', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => (tmp = tempDir()))
  afterEach(() => tmp.remove())

  it('should report a file it cannot open as a StorageError', () => {
    expect(() => new SqliteStore({ file: tmp.dir })).to.throw(StorageError, /cannot open SQLite database/)
  })

  it('should refuse work after close() with STORE_CLOSED, having finished pending appends', async () => {
    const store = new SqliteStore({ file: join(tmp.dir, 'x.db') })
    const pending = store.append('s', [newEvent()], { expectedVersion: 0 })
    await store.close()
    expect((await pending).events).to.have.length(1)
    const err = await store.append('s', [newEvent()], { expectedVersion: 1 }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(StorageError).and.to.have.property('code', 'STORE_CLOSED')
  })

  it("should run in 'normal' durability and in ':memory:'", async () => {
    for (const store of [new SqliteStore({ file: join(tmp.dir, 'n.db'), durability: 'normal' }), new SqliteStore({ file: ':memory:' })]) {
      await store.append('s', [newEvent(), newEvent()], { expectedVersion: 0 })
      expect(await store.streamVersion('s')).to.equal(2)
      await store.close()
    }
  })
})
