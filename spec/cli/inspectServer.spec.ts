import { expect } from 'chai'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { MemoryStore } from 'omniscient-actors'
import { createInspector } from '../../cli/inspect/server.js'
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

  it('should not serve files outside the page folder', async () => {
    server = createInspector({ store, storeName: 'memory:' })
    const base = await listen(server)
    expect((await fetch(`${base}/static/%2e%2e/package.json`)).status).to.equal(404)
    expect((await fetch(`${base}/static/..%2f..%2fpackage.json`)).status).to.equal(404)
    expect((await fetch(`${base}/static/app.js`)).headers.get('content-type')).to.contain('text/javascript')
  })
})
