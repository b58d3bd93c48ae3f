import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer } from 'omniscient-actors'
import { RemoteStore, SyncNeverReachedError, SyncProtocolError } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { freePort } from '../support/rethinkServer.js'
import { Tally } from '../support/Tally.js'
import { syncServerEachTest } from './syncServer.js'

// A new user's mistakes: a URL with the wrong port, or one that reaches another web server.
// With the default offline: true, neither may look like being offline.
describe('a RemoteStore pointed at the wrong place', function () {
  this.timeout(20_000)
  const server = syncServerEachTest()
  let other: Server | undefined
  afterEach(async () => {
    if (other) await new Promise((resolve) => other!.close(resolve))
    other = undefined
  })

  async function webServer(status: number, type: string, body: string): Promise<string> {
    other = createServer((_, res) => res.writeHead(status, { 'Content-Type': type }).end(body))
    await new Promise<void>((resolve) => other!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(other.address() as AddressInfo).port}/sync`
  }

  async function tryLoad(url: string) {
    const store = new RemoteStore({ url, token: 'token-alice' })
    const container = createContainer({ store, report: () => {} })
    try {
      const started = Date.now()
      const load = await new Tally('t', container).Load().then(() => 'loaded', (e: unknown) => e)
      const fire = await new Tally('t2', container).Fire('counted', { by: 'me', n: 1 }).then(() => 'stored', (e: unknown) => e)
      return { load, fire, ms: Date.now() - started, store }
    } finally {
      await container.close()
    }
  }

  it('should fail Load and Fire at once with SyncNeverReachedError naming the URL when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}/sync`
    const { load, fire, ms, store } = await tryLoad(url)
    for (const err of [load, fire]) {
      expect(err).to.be.instanceOf(SyncNeverReachedError).and.include({ code: 'NEVER_REACHED', url: url })
      expect((err as Error).message).to.include(url).and.include('ECONNREFUSED')
    }
    expect(ms).to.be.lessThan(2_000)
    expect(store.status.queued, 'nothing left queued for a server that never was').to.equal(0)
  })

  it('should fail at once with SyncProtocolError when the URL answers with a web page', async () => {
    const url = await webServer(200, 'text/html', '<!doctype html><title>My app</title>')
    const { load, fire } = await tryLoad(url)
    for (const err of [load, fire]) {
      expect(err).to.be.instanceOf(SyncProtocolError).and.include({ code: 'NOT_SYNC_PROTOCOL', status: 200 })
      expect((err as Error).message).to.include(url).and.include('text/html')
    }
  })

  it('should fail at once with SyncProtocolError when the URL answers 404 from another server', async () => {
    const url = await webServer(404, 'text/plain', 'Cannot GET /sync/head')
    const { load } = await tryLoad(url)
    expect(load).to.be.instanceOf(SyncProtocolError).and.include({ status: 404 })
  })

  it('should still start offline on a copy that has reached its server before', async () => {
    const copy = join(server.current.dir, 'device.db')
    const first = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }) })
    const c1 = createContainer({ store: first, report: () => {} })
    await (await new Tally('t', c1).Load()).Fire('counted', { by: 'me', n: 1 })
    await c1.close()
    await server.current.stop()
    const second = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }) })
    const c2 = createContainer({ store: second, report: () => {} })
    try {
      const tally = await new Tally('t', c2).Load()
      expect(tally._state.order).to.deep.equal(['me#1'])
      void tally.Fire('counted', { by: 'me', n: 2 }).catch(() => undefined)
      await new Promise((r) => setTimeout(r, 100))
      expect(second.status).to.include({ connected: false, queued: 1 })
    } finally {
      await c2.close()
    }
  })
})
