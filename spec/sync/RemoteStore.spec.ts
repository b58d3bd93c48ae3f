import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer, isStoreClosedError } from 'omniscient-actors'
import { FollowProjection } from '../../examples/follow/FollowProjection.js'
import { MemoryCopy, RemoteStore, SyncUnavailableError, type Fetch } from 'omniscient-actors/sync'
import { liveSubscription } from '../../lib/sync/liveSubscription.js'
import { HttpClient } from '../../lib/sync/HttpClient.js'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { collect, newEvent } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { syncServerEachTest } from './syncServer.js'

describe('RemoteStore (beyond the contract)', function () {
  this.timeout(20_000)
  const server = syncServerEachTest()

  it('with offline: false, should leave nothing queued after an append fails on an unreachable server', async () => {
    const local = new MemoryCopy()
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', offline: false, local })
    try {
      await server.current.stop()
      const err = await store.append('s', [{ ...newEvent('a', 1), meta: {} }], { expectedVersion: 0 }).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(SyncUnavailableError)
      expect(store.status.queued).to.equal(0)
      expect(await local.queued(), 'a later start must not send what the caller was told failed').to.deep.equal([])
    } finally {
      await store.close()
    }
  })

  it('should count what it reads from its copy in status.lastPosition, after a restart offline too', async () => {
    const copy = join(server.current.dir, 'device.db')
    await server.current.container.store.append('s', [{ ...newEvent('a', 1), meta: {} }, { ...newEvent('b', 2), meta: {} }], { expectedVersion: 0 })
    const first = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }) })
    expect(await collect(first.readStream('s'))).to.have.length(2)
    await first.close()
    await server.current.stop()
    const second = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }) })
    try {
      expect(await collect(second.readStream('s'))).to.have.length(2)
      expect(second.status.lastPosition).to.equal(2)
      expect(await second.headPosition(), 'offline: the last position seen').to.equal(2)
    } finally {
      await second.close()
    }
  })

  it('should start the reconnection backoff afresh after a connection that worked', async () => {
    // A fetch that fails the first live request, then serves a feed that drops, then serves one that stays.
    let lives = 0
    const cuts: AbortController[] = []
    const flaky: Fetch = async (input, init) => {
      if (!input.includes('/live')) return fetch(input, init)
      lives++
      if (lives === 1) throw new TypeError('connection refused')
      const cut = new AbortController()
      cuts.push(cut)
      init?.signal?.addEventListener('abort', () => cut.abort())
      return fetch(input, { ...init, signal: cut.signal })
    }
    const waits: number[] = []
    const subscription = liveSubscription(new HttpClient(server.current.url, 'token-alice', flaky), { fromPosition: 1 }, () => {}, {
      connected: () => {},
      delivered: () => {},
      backoff: (failures) => {
        waits.push(failures)
        return 1
      },
    })
    try {
      await waitUntil(() => cuts.length === 1, 5_000, 'the second attempt to connect')
      await new Promise((r) => setTimeout(r, 50))
      cuts[0]!.abort() // a working connection drops
      await waitUntil(() => cuts.length === 2, 5_000, 'the reconnection')
      expect(waits, 'failures in a row before each wait').to.deep.equal([0, 0])
    } finally {
      await subscription.close()
    }
  })

  it('should subscribe by names that hold a comma, each taken whole', async () => {
    const names = ['a,b', 'a', 'b', 'c', 'a,b,c']
    await server.current.container.store.append('s', names.map((name) => ({ ...newEvent(name), meta: {} })), { expectedVersion: 0 })
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice' })
    const got: string[] = []
    const subscription = store.subscribe({ fromPosition: 1, names: ['a,b', 'c'] }, (event) => void got.push(event.name))
    try {
      await waitUntil(() => subscription.nextPosition > 4, 5_000, 'the subscription to pass position 4')
      await store.append('s', [{ ...newEvent('a,b'), meta: {} }, { ...newEvent('b'), meta: {} }], { expectedVersion: 5 })
      await waitUntil(() => got.length === 3, 5_000, 'the live event named a,b')
      await new Promise((r) => setTimeout(r, 100))
      expect(got).to.deep.equal(['a,b', 'c', 'a,b'])
    } finally {
      await subscription.close()
      await store.close()
    }
  })

  it('should stop a projection quietly, with no more lease calls, when the store closes under it', async () => {
    let leaseCalls = 0
    const counting: Fetch = (url, init) => {
      if (url.includes('/leases/')) leaseCalls++
      return fetch(url, init)
    }
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', fetch: counting })
    const reports: unknown[] = []
    const container = createContainer({ store, report: (err) => void reports.push(err) })
    class QuickProjection extends FollowProjection {
      static leaseMs = 200
    }
    const projection = await new QuickProjection(container).start()
    await waitUntil(() => projection.progress().state === 'live', 5_000, 'the projection to run')
    await store.close()
    const after = leaseCalls
    await new Promise((r) => setTimeout(r, 300))
    expect(leaseCalls, 'renewals every 50 ms after the close').to.equal(after)
    expect(reports.filter(isStoreClosedError)).to.deep.equal([])
    await container.close()
  })
})
