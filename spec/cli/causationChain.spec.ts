import { expect } from 'chai'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { MemoryStore, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { createInspector } from '../../cli/inspect/server.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
function event(id: string, meta: NewEvent['meta'] = {}): NewEvent {
  return { id, name: `did-${id}`, data: {}, schemaVersion: 1, at: 1, meta }
}

describe("the inspector's causation chain", () => {
  let store: MemoryStore
  let server: Server
  let base: string
  beforeEach(async () => {
    store = new MemoryStore()
    // order -> (payment, shipment); shipment -> invoice; an unrelated event in between.
    await store.append('order-1', [event('order', { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` })], { expectedVersion: 0 })
    await store.append('other', [event('noise')], { expectedVersion: 0 })
    await store.append('payment-1', [event('payment', { causationId: 'order', correlationId: 'order' })], { expectedVersion: 0 })
    await store.append('shipment-1', [event('shipment', { causationId: 'order', correlationId: 'order' })], { expectedVersion: 0 })
    await store.append('invoice-1', [event('invoice', { causationId: 'shipment', correlationId: 'order', traceparent: `00-${TRACE}-b7ad6b7169203331-01` })], { expectedVersion: 0 })
    server = createInspector({ store, storeName: 'memory:', traceUrl: 'http://jaeger.local/trace/{traceId}' })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterEach(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await store.close()
  })
  const chainOf = async (id: string) => (await (await fetch(`${base}/api/chain?id=${id}`)).json()) as { causes: EventEnvelope[]; event: EventEnvelope; effects: Array<{ event: EventEnvelope; depth: number }> }

  it('should show what caused an event, root first, and nothing it did not cause', async () => {
    const chain = await chainOf('invoice')
    expect(chain.event.id).to.equal('invoice')
    expect(chain.causes.map((e) => e.id)).to.deep.equal(['order', 'shipment'])
    expect(chain.effects).to.deep.equal([])
  })

  it('should show everything an event caused, through every generation, with its distance', async () => {
    const chain = await chainOf('order')
    expect(chain.causes).to.deep.equal([])
    expect(chain.effects.map((e) => [e.event.id, e.depth])).to.deep.equal([
      ['payment', 1],
      ['shipment', 1],
      ['invoice', 2],
    ])
  })

  it('should tell the page where traces are, and answer 404 for an id the log does not hold', async () => {
    const info = (await (await fetch(`${base}/api/info`)).json()) as { traceUrl: string }
    expect(info.traceUrl).to.equal('http://jaeger.local/trace/{traceId}')
    expect((await fetch(`${base}/api/chain?id=nope`)).status).to.equal(404)
  })
})
