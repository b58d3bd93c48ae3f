import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer, PreconditionFailedError, SqliteStore } from 'omniscient-actors'
import { RemoteStore, SyncAccessError, type Fetch } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { collect } from '../store/conformance.js'
import { startWorker, waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

describe('RemoteStore offline and across restarts', function () {
  this.timeout(30_000)
  let server: SyncServerHarness
  const open: Array<{ close(): Promise<unknown> }> = []
  beforeEach(async () => {
    server = await startSyncServer({ authorize: ({ user, eventName }) => user !== 'bob' || eventName === undefined })
  })
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined)
    await server.dispose()
  })

  function remote(options: { token?: string; copy?: string; fetch?: Fetch } = {}) {
    const store = new RemoteStore({
      url: server.url,
      token: options.token ?? 'token-alice',
      backoff: { initialMs: 20, maxMs: 100 },
      ...(options.copy ? { local: new SqliteCopy({ file: options.copy }) } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    const container = createContainer({ store, report: () => {} })
    open.push(container)
    return { store, container }
  }

  const serverVersion = (id: string) => server.container.store.streamVersion(id)
  const restart = async () => {
    server = await server.restart()
  }

  it('should apply a Fire at once while the server is down, queue it, and store it once when the server returns', async () => {
    const { store, container } = remote({ copy: join(server.dir, 'device.db') })
    const tally = await new Tally('t', container).Load()
    await tally.Fire('counted', { by: 'me', n: 0 })
    await server.stop()
    const statuses: Array<{ connected: boolean; queued: number }> = []
    store.onStatus((s) => statuses.push(s))
    const fired = tally.Fire('counted', { by: 'me', n: 1 })
    await waitUntil(() => store.status.queued === 1 && !store.status.connected, 5_000, 'the Fire to be queued, offline')
    expect(tally._state.order, 'the prediction, on top of the last known state').to.deep.equal(['me#0', 'me#1'])
    expect(await serverVersion('t')).to.equal(1)
    await restart()
    const stored = await fired
    expect(stored.version).to.equal(2)
    expect(store.status).to.include({ connected: true, queued: 0 })
    expect(statuses.some((s) => !s.connected && s.queued === 1)).to.equal(true)
    expect((await collect(server.container.store.readStream('t'))).map((e) => e.data)).to.deep.equal([{ by: 'me', n: 0 }, { by: 'me', n: 1 }])
    await tally.Stop()
  })

  it('should reject a queued Fire whose precondition no longer holds once the server answers, rolling its prediction back', async () => {
    const { store, container } = remote()
    const tally = await new Tally('t', container).Load()
    await server.stop()
    const fired = tally.Fire('counted', { by: 'me', n: 1 }, { precondition: (s) => s.total === 0 }).catch((e: unknown) => e)
    await waitUntil(() => store.status.queued === 1, 5_000, 'the Fire to be queued')
    expect(tally._state.total).to.equal(1)
    // Meanwhile another writer got there first.
    await server.container.store.append('t', [{ id: 'other-1', name: 'counted', data: { by: 'other', n: 0 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 0 })
    await restart()
    expect(await fired).to.be.instanceOf(PreconditionFailedError)
    await waitUntil(() => tally.version === 1, 5_000, 'the other writer\'s event')
    expect(tally._state.order).to.deep.equal(['other#0'])
    expect(await serverVersion('t')).to.equal(1)
  })

  it('should reject a queued Fire the server refuses to authorize, rolling its prediction back', async () => {
    const { store, container } = remote({ token: 'token-bob' })
    const tally = await new Tally('t', container).Load()
    await server.stop()
    const fired = tally.Fire('counted', { by: 'bob', n: 1 }).catch((e: unknown) => e)
    await waitUntil(() => store.status.queued === 1, 5_000, 'the Fire to be queued')
    expect(tally._state.total).to.equal(1)
    await restart()
    expect(await fired).to.be.instanceOf(SyncAccessError).and.to.include({ code: 'FORBIDDEN', eventName: 'counted' })
    expect(tally._state.total).to.equal(0)
    expect(store.status.queued).to.equal(0)
  })

  it('should fetch only the tail on a Load after a restart, from its SQLite copy', async () => {
    const copy = join(server.dir, 'device.db')
    const writer = server.container.store
    for (let i = 0; i < 5; i++) await writer.append('t', Array.from({ length: 100 }, (_, n) => ({ id: `e-${i}-${n}`, name: 'counted', data: { by: 'srv', n: i * 100 + n }, schemaVersion: 1, at: 1, meta: {} })), { expectedVersion: i * 100 })
    const first = remote({ copy })
    expect((await new Tally('t', first.container).Load())._state.total).to.equal(500)
    await first.container.close()
    await writer.append('t', [{ id: 'tail-1', name: 'counted', data: { by: 'srv', n: 500 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 500 })

    const urls: string[] = []
    const counting: Fetch = (input, init) => {
      urls.push(input)
      return fetch(input, init)
    }
    const second = remote({ copy, fetch: counting })
    const tally = await new Tally('t', second.container).Load()
    expect(tally._state.total).to.equal(501)
    const reads = urls.filter((u) => u.includes('/streams/t/events'))
    expect(reads).to.have.length(1)
    expect(reads[0]).to.include('fromVersion=501')
  })

  it('should load from its copy while the server is down, and follow again when it returns', async () => {
    const copy = join(server.dir, 'device.db')
    const first = remote({ copy })
    const tally = await new Tally('t', first.container).Load()
    await tally.Fire('counted', { by: 'me', n: 0 })
    await first.container.close()
    await server.stop()
    const second = remote({ copy })
    const offline = await new Tally('t', second.container).Load()
    expect(offline._state.order).to.deep.equal(['me#0'])
    await restart()
    await server.container.store.append('t', [{ id: 'x', name: 'counted', data: { by: 'srv', n: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 1 })
    await waitUntil(() => offline.version === 2, 5_000, 'the live event after reconnecting')
    expect(second.store.status.connected).to.equal(true)
  })

  it('should lose none of the appends a killed client had queued: each is stored once after a restart', async () => {
    const copy = join(server.dir, 'device.db')
    // The device has reached its server once: offline mode applies to it from then on.
    const once = remote({ copy })
    await once.store.headPosition()
    await once.container.close()
    await server.stop()
    const worker = startWorker('offlineFirer', [server.url, copy, '3'])
    await waitUntil(() => worker.lines.includes('queued 3'), 20_000, 'three queued appends')
    worker.kill('SIGKILL')
    await worker.exited
    // A helper the worker started (tsx's esbuild) may outlive it holding its pipes open.
    worker.stdout?.destroy()
    worker.stderr?.destroy()
    await restart()
    const { store } = remote({ copy })
    await store.drained()
    const direct = new SqliteStore({ file: server.file })
    const all = await collect(direct.readAll())
    await direct.close()
    expect(all.map((e) => e.id).sort()).to.deep.equal(['offline-event-0', 'offline-event-1', 'offline-event-2'])
    expect(store.status.queued).to.equal(0)
    await store.close()
    // Answered appends leave the copy's queue: a later start sends nothing again.
    const reopened = new SqliteCopy({ file: copy })
    expect(await reopened.queued()).to.deep.equal([])
    await reopened.close()
  })
})
