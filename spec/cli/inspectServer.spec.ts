import { expect } from 'chai'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { MemoryStore } from 'omniscient-actors'
import { leaseStanding } from '../../cli/format.js'
import { createInspector } from '../../cli/inspect/server.js'
import { withoutCatalog } from '../support/withoutCatalog.js'
import { Cart } from './fixtures/Cart.js'

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('the inspector server', () => {
  let store: MemoryStore
  let server: Server
  beforeEach(async () => {
    store = new MemoryStore()
    await store.append('cart-1', [{ id: 'a', name: 'item_added', data: { sku: 'apple', qty: 2 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 0 })
  })
  afterEach(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await store.close()
  })

  it('should refuse requests without the token when it has one, and accept the token once then its cookie', async () => {
    server = createInspector({ store, storeName: 'memory:', token: 'a-long-secret-token' })
    const base = await listen(server)
    expect((await fetch(`${base}/api/info`)).status).to.equal(401)
    expect((await fetch(`${base}/api/info?token=wrong-token-here`)).status).to.equal(401)
    const first = await fetch(`${base}/?token=a-long-secret-token`)
    expect(first.status).to.equal(200)
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    expect((await fetch(`${base}/api/streams`, { headers: { cookie } })).status).to.equal(200)
    expect((await fetch(`${base}/api/streams`, { headers: { cookie: `other=1; ${cookie.replace('token', 'tokem')}` } })).status).to.equal(401)
  })

  it('should answer 404, not an error, for a static path that is not a file of the page', async () => {
    server = createInspector({ store, storeName: 'memory:' })
    const base = await listen(server)
    expect((await fetch(`${base}/static/%E0%A4%A.js`)).status).to.equal(404)
    expect((await fetch(`${base}/static/..%2f..%2fpackage.json`)).status).to.equal(404)
    expect((await fetch(`${base}/static/app.js`)).status).to.equal(200)
  })

  it('should only read: any method but GET is refused', async () => {
    server = createInspector({ store, storeName: 'memory:' })
    const base = await listen(server)
    expect((await fetch(`${base}/api/streams`, { method: 'POST', body: '{}' })).status).to.equal(405)
    expect((await fetch(`${base}/api/streams`, { method: 'DELETE' })).status).to.equal(405)
  })

  it('should refuse a Host header that is not loopback (DNS rebinding), when asked to', async () => {
    server = createInspector({ store, storeName: 'memory:', loopbackHostsOnly: true })
    const base = await listen(server)
    expect((await fetch(`${base}/api/info`)).status).to.equal(200)
    const port = new URL(base).port
    const { request } = await import('node:http')
    const status = await new Promise<number>((resolve) => request({ host: '127.0.0.1', port, path: '/api/info', headers: { host: `evil.example:${port}` } }, (res) => resolve(res.statusCode!)).end())
    expect(status).to.equal(403)
  })

  it('should replay a stream with a class up to a version and say what the event changed', async () => {
    server = createInspector({ store, storeName: 'memory:', actors: new Map([['Cart', Cart]]) })
    const base = await listen(server)
    const body = (await (await fetch(`${base}/api/state?stream=cart-1&actor=Cart&at=1`)).json()) as { state: unknown; changes: unknown[]; version: number }
    expect(body.version).to.equal(1)
    expect(body.state).to.deep.equal({ items: { apple: 2 }, done: false })
    expect(body.changes).to.deep.equal([{ path: ['items', 'apple'], kind: 'added', after: 2 }])
    const missing = await fetch(`${base}/api/state?stream=cart-1&actor=Nope`)
    expect(missing.status).to.equal(404)
    expect((await fetch(`${base}/api/events`)).status).to.equal(400)
  })

  it('should word each lease as `omniscient leases` does, held or free', async () => {
    const held = await store.acquireLease('one/Stock/s-1', 'host-a', 60_000, 0)
    const expired = await store.acquireLease('tick/Clock', 'host-b', 1_000, 0)
    server = createInspector({ store, storeName: 'memory:', now: () => 10_000 })
    const base = await listen(server)
    const body = (await (await fetch(`${base}/api/leases`)).json()) as { leases: Array<{ name: string; standing: string }> }
    expect(body.leases.map((l) => [l.name, l.standing])).to.deep.equal([
      ['one/Stock/s-1', leaseStanding(held, 10_000)],
      ['tick/Clock', leaseStanding(expired, 10_000)],
    ])
    expect(body.leases.map((l) => l.standing)).to.deep.equal(['held, expires in 50.0s', 'free (expired 9.0s ago)'])
  })

  it('should tell the page which lists the store cannot give, and answer them all the same', async () => {
    server = createInspector({ store: withoutCatalog(store), storeName: 'memory:' })
    const base = await listen(server)
    expect(await (await fetch(`${base}/api/info`)).json()).to.deep.include({ can: { listStreams: false, listLeases: false } })
    expect(((await (await fetch(`${base}/api/streams`)).json()) as Array<{ streamId: string }>).map((s) => s.streamId)).to.deep.equal(['cart-1'])
    expect(await (await fetch(`${base}/api/leases`)).json()).to.deep.equal({ leases: null })
    // A page the store refuses is the caller's mistake, with or without the adapter's listStreams.
    expect((await fetch(`${base}/api/streams?limit=0`)).status).to.equal(400)
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    server = createInspector({ store, storeName: 'memory:' })
    const full = await listen(server)
    expect(await (await fetch(`${full}/api/info`)).json()).to.deep.include({ can: { listStreams: true, listLeases: true } })
    expect((await fetch(`${full}/api/streams?limit=0`)).status).to.equal(400)
  })

  it('should not serve files outside the page folder', async () => {
    server = createInspector({ store, storeName: 'memory:' })
    const base = await listen(server)
    expect((await fetch(`${base}/static/%2e%2e/package.json`)).status).to.equal(404)
    expect((await fetch(`${base}/static/..%2f..%2fpackage.json`)).status).to.equal(404)
    expect((await fetch(`${base}/static/app.js`)).headers.get('content-type')).to.contain('text/javascript')
  })
})
