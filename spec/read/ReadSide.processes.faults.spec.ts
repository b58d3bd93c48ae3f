import { expect } from 'chai'
import type { ChildProcess } from 'node:child_process'
import { createContainer, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { freshTarget, openStore, storeKinds } from '../support/openStore.js'
import { killWorkers, startWorker, waitUntil } from '../support/processes.js'
import { FaultFollowGraph, FaultFollowProjection, foldFollowGraph, waitWhileMoving } from '../support/ReadSide.js'
import { collect } from '../store/conformance.js'

// A soak, run by npm run test:faults (not npm test); FAULT_ROUNDS, which that script sets,
// makes it the long one: more events, more kills.
const LONG = process.env['FAULT_ROUNDS'] !== undefined
const SOURCES = LONG ? 20_000 : 5_000
const USERS = 100
// How long a checkpoint may stand still before the spec calls it a hang (leases are 400 ms).
const STALL_MS = 120_000

type Worker = ChildProcess & { lines: string[]; exited: Promise<number | null> }

for (const kind of storeKinds) describe(`the read side across kill -9, on ${kind.name}`, function () {
  // Guards against hangs, not speed checks: the catch-up waits below fail only when the
  // checkpoint stops moving for STALL_MS, and this timeout bounds the whole. Writing the 5,000
  // source events alone took 74 s on a RethinkDB server under load, and its catch-up once ran
  // past a fixed 60 s deadline while still moving.
  const slow = LONG || kind.name.startsWith('Rethink')
  this.timeout(slow ? 900_000 : 240_000)
  const workers: Worker[] = []
  // Closed here, so that a failed assertion leaves no store open to keep mocha from exiting.
  let leftOpen: ReturnType<typeof openStore> | undefined
  afterEach(async () => {
    await killWorkers(workers)
    workers.length = 0
    await leftOpen?.close()
    leftOpen = undefined
  })
  const fresh = freshTarget(kind)

  it('should store every derived event exactly once and keep a read model equal to a fold of the log', async () => {
    const target = fresh.target
    const store = (leftOpen = openStore(target))
    // For queries only: nothing is started in this process.
    const container = createContainer({ store, report: () => {} })
    const start = () => {
      const worker = startWorker('readSide', [target])
      workers.push(worker)
      return worker
    }
    const running = [start(), start()]
    await waitUntil(() => running.every((w) => w.lines.includes('ready')), 180_000, 'both workers to start')

    let written = 0
    let kills = 0
    const writing = (async () => {
      let n = 0
      while (written < SOURCES) {
        // 20 appends of one event each at once: one group commit, many streams.
        const appends: Array<Promise<unknown>> = []
        for (let i = 0; i < 20 && written < SOURCES; i++, written++) {
          const who = `u${n++ % USERS}`
          const event: NewEvent = { id: `follow-${written}`, name: 'Followed', data: { user: `u${(n * 7 + 3) % USERS}` }, schemaVersion: 1, at: Date.now(), meta: { correlationId: `c-${written}` } }
          appends.push(store.append(who, [event], { expectedVersion: 'any' }))
        }
        await Promise.all(appends)
        await new Promise((r) => setTimeout(r, LONG ? 5 : 10))
      }
    })()
    // kill -9 one of the two at random moments (once it has started), and start it again at once.
    let killing = true
    const chaos = (async () => {
      while (killing) {
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300))
        const victim = Math.floor(Math.random() * 2)
        if (!killing || !running[victim]!.lines.includes('ready')) continue
        running[victim]!.kill('SIGKILL')
        await running[victim]!.exited
        kills++
        running[victim] = start()
      }
    })()
    try {
      await writing
      // Two more kills after the last source event, then let them finish.
      const target = kills + 2
      // Each kill waits for a restarted worker to be ready: generous, for a loaded machine.
      await waitUntil(() => kills >= target, 180_000, 'two more kills')
    } finally {
      killing = false
      await chaos
    }
    const lastSource = await store.headPosition()
    const checkpointName = new FaultFollowProjection(container).checkpointName
    await waitWhileMoving(async () => (await store.loadCheckpoint(checkpointName)) ?? 0, lastSource, STALL_MS, 'the projection')
    const graph = new FaultFollowGraph(container)
    const storage = store.readModels!()
    await waitWhileMoving(() => storage.activeCheckpoint(FaultFollowGraph.modelName), await store.headPosition(), STALL_MS, 'the read model')
    await graph.waitFor(await store.headPosition(), { timeoutMs: 1_000 })
    await killWorkers(running)
    expect(kills).to.be.greaterThan(2)

    const log = await collect(store.readAll())
    const sources = log.filter((e) => e.name === 'Followed')
    const derived = log.filter((e) => e.name === 'WasFollowed')
    expect(sources).to.have.length(SOURCES)
    const byCause = new Map<string, EventEnvelope[]>()
    for (const e of derived) byCause.set(e.meta.causationId!, [...(byCause.get(e.meta.causationId!) ?? []), e])
    for (const s of sources) {
      const mine = byCause.get(s.id) ?? []
      expect(mine, `derived from ${s.id}`).to.have.length(1)
      expect(mine[0]!.meta.correlationId).to.equal(s.meta.correlationId)
      expect(mine[0]!.streamId).to.equal((s.data as { user: string }).user)
    }
    expect(derived).to.have.length(SOURCES)

    const expected = foldFollowGraph(log)
    const actual = new Map<string, unknown>()
    let after: string | undefined
    do {
      const page = await graph.list({ limit: 1_000, ...(after !== undefined ? { after } : {}) })
      for (const d of page.docs) actual.set(d.key, d.doc)
      after = page.next
    } while (after !== undefined)
    expect(Object.fromEntries(actual)).to.deep.equal(Object.fromEntries(expected))
  })
})
