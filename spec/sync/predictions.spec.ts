import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, EventValidationError, PreconditionFailedError, type NewEvent } from 'omniscient-actors'
import { MemoryCopy, RemoteStore, type Fetch } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { collect } from '../store/conformance.js'
import { startWorker, waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

// The server's catalog is stricter than the device's: n above 100 is refused (EVENT_VALIDATION),
// as a server whose schema moved on would refuse it.
const ServerTallyEvents = defineEvents({ counted: z.object({ by: z.string(), n: z.number().int().max(100) }) })

/** A fetch whose appends wait until `open()`: a slow server, seen from the device. */
function gatedFetch(): { fetch: Fetch; open(): void; held(): number } {
  let opened = false
  let waiting: Array<() => void> = []
  return {
    fetch: async (input, init) => {
      if (init?.method === 'POST' && input.includes('/events') && !opened) await new Promise<void>((r) => waiting.push(r))
      return fetch(input, init)
    },
    open() {
      opened = true
      for (const go of waiting) go()
      waiting = []
    },
    held: () => waiting.length,
  }
}

const other = (id: string, n: number): NewEvent => ({ id, name: 'counted', data: { by: 'other', n }, schemaVersion: 1, at: 1, meta: {} })

describe('LiveActor on a RemoteStore: pending Fires shown on top of the server state', function () {
  this.timeout(30_000)
  let server: SyncServerHarness
  const open: Array<{ close(): Promise<unknown> }> = []
  beforeEach(async () => {
    server = await startSyncServer({ events: [ServerTallyEvents] })
  })
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined)
    await server.dispose()
  })

  function device(fetchFn?: Fetch) {
    const store = new RemoteStore({ url: server.url, token: 'token-alice', backoff: { initialMs: 20, maxMs: 100 }, ...(fetchFn ? { fetch: fetchFn } : {}) })
    const container = createContainer({ store, report: () => {} })
    open.push(container)
    return { store, container }
  }
  const serverOrder = async (id: string) => (await collect(server.container.store.readStream(id))).map((e) => `${(e.data as { by: string }).by}#${(e.data as { n: number }).n}`)

  it('should apply several Fires made in a row at once, in order, while the server is slow, and store them in that order', async () => {
    const gate = gatedFetch()
    const { store, container } = device(gate.fetch)
    const tally = await new Tally('t', container).Load()
    const fired = [0, 1, 2].map((n) => tally.Fire('counted', { by: 'me', n }))
    await tally.Idle()
    expect(tally._state.order, 'all three predicted at once').to.deep.equal(['me#0', 'me#1', 'me#2'])
    expect(tally.version).to.equal(3)
    expect(store.status.queued).to.equal(3)
    expect(await serverOrder('t')).to.deep.equal([])
    gate.open()
    const stored = await Promise.all(fired)
    expect(stored.map((e) => e.version)).to.deep.equal([1, 2, 3])
    expect(await serverOrder('t')).to.deep.equal(['me#0', 'me#1', 'me#2'])
    expect(tally._state.order).to.deep.equal(['me#0', 'me#1', 'me#2'])
    expect(store.status.queued).to.equal(0)
  })

  it('should show Fires made offline at once, on top of the last known server state, and land each once in order', async () => {
    const { store, container } = device()
    const tally = await new Tally('t', container).Load()
    await tally.Fire('counted', { by: 'me', n: 0 })
    await server.stop()
    const fired = [1, 2, 3].map((n) => tally.Fire('counted', { by: 'me', n }))
    await tally.Idle()
    expect(tally._state.order).to.deep.equal(['me#0', 'me#1', 'me#2', 'me#3'])
    await waitUntil(() => !store.status.connected, 5_000, 'the device to notice the server is gone')
    expect(store.status.queued).to.equal(3)
    server = await server.restart()
    expect((await Promise.all(fired)).map((e) => e.version)).to.deep.equal([2, 3, 4])
    expect(await serverOrder('t')).to.deep.equal(['me#0', 'me#1', 'me#2', 'me#3'])
    expect(tally._state.order).to.deep.equal(['me#0', 'me#1', 'me#2', 'me#3'])
  })

  it('should rebase pending Fires on top of another writer that won: the server order, then ours again, in order', async () => {
    const gate = gatedFetch()
    const { container } = device(gate.fetch)
    const tally = await new Tally('t', container).Load()
    const fired = [0, 1].map((n) => tally.Fire('counted', { by: 'me', n }))
    await tally.Idle()
    await waitUntil(() => gate.held() === 1, 5_000, 'the first append to be on its way')
    await server.container.store.append('t', [other('x', 0)], { expectedVersion: 0 })
    await waitUntil(() => tally._state.order[0] === 'other#0', 5_000, 'the winner under our predictions')
    expect(tally._state.order, 'the server event, then ours on top').to.deep.equal(['other#0', 'me#0', 'me#1'])
    gate.open()
    expect((await Promise.all(fired)).map((e) => e.version)).to.deep.equal([2, 3])
    expect(await serverOrder('t')).to.deep.equal(['other#0', 'me#0', 'me#1'])
    expect(tally._state.order).to.deep.equal(['other#0', 'me#0', 'me#1'])
  })

  it('should not store a Fire made while the one before it was being refused ahead of it', async () => {
    // A copy whose queue can be made slow: the second Fire reaches the store's line only after
    // the first one's refusal has been handled there.
    let hold: Promise<void> | undefined
    class SlowCopy extends MemoryCopy {
      override async enqueue(append: Parameters<MemoryCopy['enqueue']>[0]) {
        if (hold) await hold
        return super.enqueue(append)
      }
    }
    // The outcome of each append the actor sends, as the store gives it.
    const outcomes: Array<Promise<string>> = []
    class WatchedStore extends RemoteStore {
      override appendInOrder(...args: Parameters<RemoteStore['appendInOrder']>) {
        const sent = super.appendInOrder(...args)
        outcomes.push(sent.then(() => 'stored', () => 'refused'))
        return sent
      }
    }
    const gate = gatedFetch()
    let onAnswer: (() => void) | undefined
    const store = new WatchedStore({
      url: server.url,
      token: 'token-alice',
      local: new SlowCopy(),
      fetch: async (input, init) => {
        const response = await gate.fetch(input, init)
        // Right as the first append's refusal comes back, before the actor has heard of it.
        if (init?.method === 'POST' && onAnswer) {
          const run = onAnswer
          onAnswer = undefined
          run()
        }
        return response
      },
    })
    const container = createContainer({ store, report: () => {} })
    open.push(container)
    const tally = await new Tally('t', container).Load()
    await tally.Stop() // no live feed: the actor learns of the winner from the refusal only
    const first = tally.Fire('counted', { by: 'me', n: 0 })
    await tally.Idle()
    await server.container.store.append('t', [other('x', 0)], { expectedVersion: 0 })
    let release!: () => void
    let second: Promise<unknown> | undefined
    onAnswer = () => {
      hold = new Promise((r) => (release = r))
      second = tally.Fire('counted', { by: 'me', n: 1 })
    }
    gate.open()
    await waitUntil(() => second !== undefined, 5_000, 'the second Fire')
    expect(await outcomes[0], 'the first append, handled by the store').to.equal('refused')
    hold = undefined
    release()
    await first
    await second
    expect(await serverOrder('t'), 'ours in the order fired, on top of the winner').to.deep.equal(['other#0', 'me#0', 'me#1'])
    expect(tally._state.order).to.deep.equal(['other#0', 'me#0', 'me#1'])
  })

  it('should reject a pending Fire whose precondition fails after the rebase, roll it back, and keep the ones behind it', async () => {
    const gate = gatedFetch()
    const copy = new MemoryCopy()
    const store = new RemoteStore({ url: server.url, token: 'token-alice', local: copy, fetch: gate.fetch })
    const container = createContainer({ store, report: () => {} })
    open.push(container)
    const tally = await new Tally('t', container).Load()
    const first = tally.Fire('counted', { by: 'me', n: 0 }, { precondition: (s) => !s.order.includes('other#0') }).catch((e: unknown) => e)
    const second = tally.Fire('counted', { by: 'me', n: 1 })
    await tally.Idle()
    expect(tally._state.order).to.deep.equal(['me#0', 'me#1'])
    await server.container.store.append('t', [other('x', 0)], { expectedVersion: 0 })
    gate.open()
    expect(await first).to.be.instanceOf(PreconditionFailedError)
    expect((await second).version).to.equal(2)
    expect(await serverOrder('t')).to.deep.equal(['other#0', 'me#1'])
    await waitUntil(() => tally.version === 2, 5_000, 'the state to settle')
    expect(tally._state.order).to.deep.equal(['other#0', 'me#1'])
    await waitUntil(() => store.status.queued === 0, 5_000, 'the rejected Fire to leave the queue')
    expect(await copy.queued(), 'nothing left for a later start to send').to.deep.equal([])
  })

  it('should keep a Fire that lost a race in the queue until it is sent again, so a crash in between loses nothing', async () => {
    const gate = gatedFetch()
    let readsHeld = false
    const reads: Array<() => void> = []
    const copy = new MemoryCopy()
    const store = new RemoteStore({
      url: server.url,
      token: 'token-alice',
      local: copy,
      fetch: async (input, init) => {
        if (readsHeld && init?.method !== 'POST' && input.includes('/streams/t/events')) await new Promise<void>((r) => reads.push(r))
        return gate.fetch(input, init)
      },
    })
    const container = createContainer({ store, report: () => {} })
    open.push(container)
    const tally = await new Tally('t', container).Load()
    await tally.Stop()
    const fired = tally.Fire('counted', { by: 'me', n: 0 }, { id: 'mine' })
    await tally.Idle()
    await server.container.store.append('t', [other('x', 0)], { expectedVersion: 0 })
    readsHeld = true
    gate.open()
    await waitUntil(() => reads.length === 1, 5_000, 'the rebase to read the winner')
    expect((await copy.queued()).map((q) => q.events[0]!.id), 'still queued while it is rebased').to.deep.equal(['mine'])
    readsHeld = false
    for (const go of reads) go()
    expect((await fired).version).to.equal(2)
    expect(await copy.queued()).to.deep.equal([])
    expect(await serverOrder('t')).to.deep.equal(['other#0', 'me#0'])
  })

  it('should reject a pending Fire the server refuses (schema), roll it back, and land the ones before and behind it', async () => {
    const { store, container } = device()
    const tally = await new Tally('t', container).Load()
    await server.stop()
    const fired = [1, 999, 3].map((n) => tally.Fire('counted', { by: 'me', n }).catch((e: unknown) => e))
    await tally.Idle()
    expect(tally._state.order).to.deep.equal(['me#1', 'me#999', 'me#3'])
    server = await server.restart()
    const [a, refused, c] = await Promise.all(fired)
    expect(refused).to.be.instanceOf(EventValidationError)
    expect([a, c].map((e) => (e as { version: number }).version)).to.deep.equal([1, 2])
    expect(await serverOrder('t')).to.deep.equal(['me#1', 'me#3'])
    expect(tally._state.order).to.deep.equal(['me#1', 'me#3'])
    expect(store.status.queued).to.equal(0)
  })

  it('should reject a Fire at once, queuing nothing, when its precondition fails on the predicted state', async () => {
    const gate = gatedFetch()
    const { store, container } = device(gate.fetch)
    const tally = await new Tally('t', container).Load()
    const first = tally.Fire('counted', { by: 'me', n: 0 })
    const second = tally.Fire('counted', { by: 'me', n: 1 }, { precondition: (s) => s.total === 0 }).catch((e: unknown) => e)
    expect(await second).to.be.instanceOf(PreconditionFailedError)
    expect(tally._state.order).to.deep.equal(['me#0'])
    expect(store.status.queued).to.equal(1)
    gate.open()
    await first
    expect(await serverOrder('t')).to.deep.equal(['me#0'])
  })

  it('should converge two devices firing in a row on one id with a slow server: same order everywhere', async () => {
    const a = device()
    const b = device()
    const ta = await new Tally('t', a.container).Load()
    const tb = await new Tally('t', b.container).Load()
    const fired: Array<Promise<unknown>> = []
    for (let n = 0; n < 10; n++) fired.push(ta.Fire('counted', { by: 'a', n }), tb.Fire('counted', { by: 'b', n }))
    await Promise.all(fired)
    const order = await serverOrder('t')
    expect(order).to.have.length(20)
    for (const who of ['a', 'b']) expect(order.filter((o) => o.startsWith(who))).to.deep.equal(Array.from({ length: 10 }, (_, n) => `${who}#${n}`))
    await waitUntil(() => ta.version === 20 && tb.version === 20, 5_000, 'both devices to follow')
    expect(ta._state.order).to.deep.equal(order)
    expect(tb._state.order).to.deep.equal(order)
  })
})

describe('LiveActor on a RemoteStore: Fires a killed process left queued, after a restart', function () {
  this.timeout(60_000)
  let server: SyncServerHarness
  beforeEach(async () => {
    server = await startSyncServer({ events: [ServerTallyEvents] })
    await server.container.store.append('tally', [{ id: 'srv-0', name: 'counted', data: { by: 'srv', n: 0 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 0 })
  })
  afterEach(async () => {
    await server.dispose()
  })

  /** A worker process loads with the server up, fires `ns` offline, and is killed with SIGKILL. */
  async function killedWithQueued(copy: string, ns: number[]): Promise<string> {
    const go = join(server.dir, 'go')
    const worker = startWorker('offlinePredictor', [server.url, copy, ns.join(','), go])
    await waitUntil(() => worker.lines.includes('ready'), 30_000, 'the worker to load')
    await server.stop()
    writeFileSync(go, 'go')
    await waitUntil(() => worker.lines.includes(`queued ${ns.length}`) && worker.lines.some((l) => l.startsWith('shown ')), 20_000, 'the queued Fires')
    const shown = worker.lines.find((l) => l.startsWith('shown '))!
    worker.kill('SIGKILL')
    await worker.exited
    worker.stdout?.destroy()
    worker.stderr?.destroy()
    return shown
  }

  const restart = async () => {
    server = await server.restart()
  }
  const serverOrder = async () => (await collect(server.container.store.readStream('tally'))).map((e) => `${(e.data as { by: string }).by}#${(e.data as { n: number }).n}`)

  it('should show them on top of the server state after a Load, then land each once', async () => {
    const copy = join(server.dir, 'device.db')
    expect(await killedWithQueued(copy, [1, 2, 3])).to.equal('shown srv#0 me#1 me#2 me#3')
    const store = new RemoteStore({ url: server.url, token: 'token-alice', local: new SqliteCopy({ file: copy }), backoff: { initialMs: 20, maxMs: 100 } })
    const container = createContainer({ store, report: () => {} })
    try {
      const tally = await new Tally('tally', container).Load()
      expect(tally._state.order, 'the queued Fires, shown again after the restart').to.deep.equal(['srv#0', 'me#1', 'me#2', 'me#3'])
      expect(store.status.queued).to.equal(3)
      await restart()
      await store.drained()
      expect(await serverOrder()).to.deep.equal(['srv#0', 'me#1', 'me#2', 'me#3'])
      await waitUntil(() => tally.version === 4 && store.status.queued === 0, 5_000, 'the landed Fires')
      expect(tally._state.order).to.deep.equal(['srv#0', 'me#1', 'me#2', 'me#3'])
      const fresh = await new Tally('tally', createContainer({ store: server.container.store })).Load()
      await fresh.Stop()
      expect(tally._state).to.deep.equal(fresh._state)
    } finally {
      await container.close()
    }
  })

  it('should roll back one the server refuses, and land the others', async () => {
    const copy = join(server.dir, 'device.db')
    await killedWithQueued(copy, [1, 999, 3])
    const refused: string[] = []
    const store = new RemoteStore({
      url: server.url,
      token: 'token-alice',
      local: new SqliteCopy({ file: copy }),
      backoff: { initialMs: 20, maxMs: 100 },
      onRejected: (append, err) => refused.push(`${append.events[0]!.id} ${(err as { code?: string }).code}`),
    })
    const container = createContainer({ store, report: () => {} })
    try {
      const tally = await new Tally('tally', container).Load()
      expect(tally._state.order).to.deep.equal(['srv#0', 'me#1', 'me#999', 'me#3'])
      await restart()
      await store.drained()
      expect(refused).to.deep.equal(['pending-999 EVENT_VALIDATION'])
      expect(await serverOrder()).to.deep.equal(['srv#0', 'me#1', 'me#3'])
      await waitUntil(() => tally.version === 3, 5_000, 'the landed Fires')
      expect(tally._state.order).to.deep.equal(['srv#0', 'me#1', 'me#3'])
    } finally {
      await container.close()
    }
  })
})
