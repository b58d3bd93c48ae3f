import { expect } from 'chai'
import { readFileSync } from 'node:fs'
import { bearerTokens } from 'omniscient-actors/sync-server'
import { waitUntil } from '../../support/processes.js'
import { startSyncServer, type SyncServerHarness } from '../syncServer.js'
import { OutsideClient, Refused, type OutgoingEvent, type WireEvent } from './OutsideClient.js'

// A client that is not this library (OutsideClient.ts: fetch and the eventsource package, built
// from docs/sync.md) against serveSync on a temp SQLite store: it catches up, follows live from
// Last-Event-ID, appends with its own ids, and retries across a server restart.

const TOKEN = 'outside-client-token-0123'
const event = (name: string, data: unknown): OutgoingEvent => ({ id: crypto.randomUUID(), name, data, schemaVersion: 1, at: Date.now() })

describe('a sync client that is not this library', function () {
  this.timeout(30_000)
  let server: SyncServerHarness
  let client: OutsideClient
  const options = { server: { authenticate: bearerTokens({ [TOKEN]: 'outsider' }) } }
  beforeEach(async () => {
    server = await startSyncServer(options)
    client = new OutsideClient(server.url, TOKEN)
  })
  afterEach(() => server.dispose())

  it('should import nothing from the library', () => {
    const source = readFileSync(new URL('./OutsideClient.ts', import.meta.url), 'utf8')
    const imports = [...source.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1])
    expect(imports).to.deep.equal(['eventsource'])
  })

  it('should append with its own ids, answer a resend with the stored events, and catch up as NDJSON', async () => {
    const batch = [event('paid', { lives: 5 }), event('paid', { lives: 2 })]
    const first = await client.append('player-1', 0, batch)
    expect(first.alreadyStored).to.equal(false)
    expect(first.events.map((e) => [e.id, e.version, e.position])).to.deep.equal([[batch[0]!.id, 1, 1], [batch[1]!.id, 2, 2]])
    const again = await client.append('player-1', 0, batch)
    expect(again.alreadyStored).to.equal(true)
    expect(again.events).to.deep.equal(first.events)
    expect(await client.version('player-1')).to.equal(2)

    const conflict = await client.append('player-1', 0, [event('paid', { lives: 1 })]).catch((e: unknown) => e)
    expect(conflict).to.be.instanceOf(Refused).and.to.include({ status: 409, code: 'CONCURRENCY' })
    expect((conflict as Refused).fields).to.include({ expectedVersion: 0, actualVersion: 2 })

    const log = await client.catchUp()
    expect(log.map((e) => [e.streamId, e.version, e.data])).to.deep.equal([['player-1', 1, { lives: 5 }], ['player-1', 2, { lives: 2 }]])
    expect((await client.catchUp(2)).map((e) => e.position)).to.deep.equal([2])
  })

  it('should follow live from the Last-Event-ID it caught up to, and resume after a server restart, once each', async () => {
    await client.append('a', 0, [event('x', 1), event('x', 2)])
    const held = await client.catchUp()
    const got: WireEvent[] = []
    const feed = client.follow(held.at(-1)!.position, (e) => got.push(e))
    try {
      await client.append('a', 2, [event('x', 3)])
      await waitUntil(() => got.length === 1, 5_000, 'the live event')
      expect(got.map((e) => e.position)).to.deep.equal([3])

      // The server goes away; the client's append retries until it is back; others are stored meanwhile.
      await server.stop()
      await server.container.store.append('a', [{ ...event('x', 4), data: 4, meta: {} }], { expectedVersion: 3 })
      const landing = client.append('a', 'any', [event('x', 5)])
      await new Promise((r) => setTimeout(r, 300))
      server = await server.restart()
      const landed = await landing
      expect(landed.attempts).to.be.greaterThan(1)
      expect(landed.events.map((e) => e.version)).to.deep.equal([5])

      await waitUntil(() => got.length === 3, 10_000, 'the events stored while it was down')
      expect(got.map((e) => e.position)).to.deep.equal([3, 4, 5])
      expect(got.map((e) => e.data)).to.deep.equal([3, 4, 5])
    } finally {
      feed.close()
    }
  })

  it('should stop following when the server refuses its token', async () => {
    const stranger = new OutsideClient(server.url, 'not-a-token-of-this-server')
    const feed = stranger.follow(0, () => undefined)
    try {
      await waitUntil(() => feed.source.readyState === feed.source.CLOSED, 5_000, 'EventSource to give up')
    } finally {
      feed.close()
    }
    const refused = await stranger.append('a', 'any', [event('x', 1)]).catch((e: unknown) => e)
    expect(refused).to.be.instanceOf(Refused).and.to.include({ status: 401, code: 'UNAUTHENTICATED' })
  })
})
