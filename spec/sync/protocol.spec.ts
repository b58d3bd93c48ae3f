import { expect } from 'chai'
import { EventSource } from 'eventsource'
import type { EventEnvelope } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { collect, newEvent } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { startSyncServer, syncServerEachTest } from './syncServer.js'

// A client written against docs/sync.md alone: fetch for requests, a plain EventSource for live.
describe('the sync protocol, spoken by an outside client', () => {
  const server = syncServerEachTest()

  const auth = { Authorization: 'Bearer token-alice' }

  it('should append with client ids, catch up as NDJSON, and answer a resend with the stored events', async () => {
    const body = JSON.stringify({ expectedVersion: 0, events: [{ id: 'c-1', name: 'paid', data: { lives: 5 }, schemaVersion: 1, at: 1, meta: {} }] })
    const first = await fetch(`${server.current.url}/streams/player-1/events`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body })
    expect(first.status).to.equal(200)
    const stored = (await first.json()) as { events: EventEnvelope[]; alreadyStored: boolean }
    expect(stored.events[0]).to.include({ id: 'c-1', streamId: 'player-1', version: 1, position: 1 })
    const again = (await (await fetch(`${server.current.url}/streams/player-1/events`, { method: 'POST', headers: auth, body })).json()) as { alreadyStored: boolean }
    expect(again.alreadyStored).to.equal(true)

    const ndjson = await fetch(`${server.current.url}/streams/player-1/events?fromVersion=1`, { headers: auth })
    expect(ndjson.headers.get('content-type')).to.match(/^application\/x-ndjson/)
    const lines = (await ndjson.text()).trim().split('\n').map((l) => JSON.parse(l) as EventEnvelope)
    expect(lines.map((e) => [e.id, e.version, e.data])).to.deep.equal([['c-1', 1, { lives: 5 }]])
    expect(await (await fetch(`${server.current.url}/head`, { headers: auth })).json()).to.deep.equal({ position: 1 })
    expect(await (await fetch(`${server.current.url}/streams/player-1`, { headers: auth })).json()).to.deep.equal({ streamId: 'player-1', version: 1 })

    const conflict = await fetch(`${server.current.url}/streams/player-1/events`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ expectedVersion: 0, events: [{ id: 'c-2', name: 'paid', data: {}, schemaVersion: 1, at: 2 }] }),
    })
    expect(conflict.status).to.equal(409)
    const { error } = (await conflict.json()) as { error: Record<string, unknown> }
    expect(error).to.include({ code: 'CONCURRENCY', streamId: 'player-1', expectedVersion: 0, actualVersion: 1 })
    expect(error.message).to.match(/"player-1".*expected version 0/)
  })

  it('should let a plain EventSource catch up, follow live, and resume with Last-Event-ID across a server restart', async () => {
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', offline: false })
    await store.append('s', [newEvent('a'), newEvent('b')], { expectedVersion: 0 })
    const got: number[] = []
    const source = new EventSource(`${server.current.url}/live?fromPosition=1&access_token=token-alice`)
    source.onmessage = (message) => {
      got.push((JSON.parse(message.data as string) as EventEnvelope).position)
      expect(message.lastEventId).to.equal(String(got.at(-1)))
    }
    try {
      await waitUntil(() => got.length === 2, 5_000, 'the past events')
      await store.append('s', [newEvent('c')], { expectedVersion: 2 })
      await waitUntil(() => got.length === 3, 5_000, 'the live event')
      // The server goes away; events are stored meanwhile; it comes back on the same port.
      await server.current.stop()
      const direct = server.current.container.store
      await direct.append('s', [newEvent('d'), newEvent('e')], { expectedVersion: 3 })
      const again = await startSyncServer({ file: server.current.file, port: server.current.port })
      try {
        await waitUntil(() => got.length === 5, 10_000, 'the events stored while it was down')
        expect(got).to.deep.equal([1, 2, 3, 4, 5])
      } finally {
        source.close()
        await again.dispose()
      }
    } finally {
      source.close()
      await store.close()
    }
  })

  it('should resume a RemoteStore subscription after a server restart mid-stream, without gap or duplicate', async () => {
    const writer = server.current.container.store
    const reader = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 20, maxMs: 200 } })
    const got: number[] = []
    const sub = reader.subscribe({ fromPosition: 1 }, (e) => void got.push(e.position))
    try {
      for (let i = 0; i < 100; i++) await writer.append('s', [newEvent()], { expectedVersion: i })
      await waitUntil(() => got.length >= 50, 5_000, 'half the events')
      await server.current.stop()
      expect(reader.status.connected).to.equal(true)
      for (let i = 100; i < 200; i++) await writer.append('s', [newEvent()], { expectedVersion: i })
      await waitUntil(() => !reader.status.connected, 5_000, 'the reader to notice')
      const again = await startSyncServer({ file: server.current.file, port: server.current.port })
      try {
        await waitUntil(() => got.length === 200, 10_000, 'every event')
        expect(got).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1))
        expect(reader.status).to.include({ connected: true, lastPosition: 200 })
      } finally {
        await sub.close()
        await again.dispose()
      }
    } finally {
      await reader.close()
    }
    expect((await collect(writer.readAll())).length).to.equal(200)
  })
})
