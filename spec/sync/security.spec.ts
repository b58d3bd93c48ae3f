import { expect } from 'chai'
import { z } from 'zod'
import { defineEvents, type EventEnvelope } from 'omniscient-actors'
import { RemoteStore, SyncAccessError } from 'omniscient-actors/sync'
import { bearerTokens } from 'omniscient-actors/sync-server'
import { collect, newEvent } from '../store/conformance.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

const GameEvents = defineEvents({
  lives_added: z.object({ n: z.number().int().positive() }),
  banned: z.object({ reason: z.string() }),
})

// alice and bob each read and write their own streams (`alice:...`) and read the log's head;
// only admin fires `banned`.
function authorize({ user, action, streamId, eventName }: { user: string; action: string; streamId?: string; eventName?: string }): boolean {
  if (user === 'admin') return true
  if (action === 'lease') return false
  if (action === 'read' && streamId === undefined) return true
  if (eventName === 'banned') return false
  return streamId !== undefined && streamId.startsWith(`${user}:`)
}

const event = (name: string, data: unknown) => ({ ...newEvent(name, data), meta: {} })

async function post(server: SyncServerHarness, path: string, token: string | undefined, body: string) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body,
  })
  return { status: response.status, body: (await response.json()) as { error: { code: string; message: string; [k: string]: unknown } } }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('serveSync security', () => {
  let server: SyncServerHarness
  let admin: RemoteStore
  let alice: RemoteStore
  beforeEach(async () => {
    server = await startSyncServer({ authorize, events: [GameEvents], server: { maxBodyBytes: 64 * 1024, maxBatch: 10, maxLiveFeedsPerUser: 2 } })
    admin = new RemoteStore({ url: server.url, token: 'token-admin', offline: false })
    alice = new RemoteStore({ url: server.url, token: 'token-alice', offline: false })
    await admin.append('alice:1', [event('lives_added', { n: 1 })], { expectedVersion: 0 })
    await admin.append('bob:1', [event('lives_added', { n: 2 }), event('banned', { reason: 'x' })], { expectedVersion: 0 })
    await admin.append('alice:1', [event('banned', { reason: 'y' })], { expectedVersion: 1 })
  })
  afterEach(async () => {
    await Promise.all([admin.close(), alice.close()])
    await server.dispose()
  })

  describe('who is asking', () => {
    it('should take the Bearer scheme in any case, as HTTP says', async () => {
      for (const scheme of ['bearer', 'BEARER']) {
        const response = await fetch(`${server.url}/streams/alice:1`, { headers: { Authorization: `${scheme} token-alice` } })
        expect(response.status, scheme).to.equal(200)
      }
    })

    it('should not read a path starting with // as a host and a path under it', async () => {
      const { request } = await import('node:http')
      const status = await new Promise<number>((resolve, reject) =>
        request({ host: '127.0.0.1', port: server.port, path: '//elsewhere/streams/alice:1', headers: { Authorization: 'Bearer token-alice' } }, (res) => {
          res.resume()
          resolve(res.statusCode!)
        })
          .on('error', reject)
          .end(),
      )
      expect(status).to.equal(404)
    })

    it('should refuse a request without a token, or with a wrong one, with 401 UNAUTHENTICATED', async () => {
      for (const headers of [{}, { Authorization: 'Bearer token-alic' }, { Authorization: 'Bearer token-alicee' }, { Authorization: 'Basic token-alice' }]) {
        const response = await fetch(`${server.url}/head`, { headers })
        expect(response.status).to.equal(401)
        expect(((await response.json()) as { error: { code: string } }).error.code).to.equal('UNAUTHENTICATED')
      }
      const err = await new RemoteStore({ url: server.url, token: 'nope', offline: false }).headPosition().catch((e: unknown) => e)
      expect(err).to.be.instanceOf(SyncAccessError).and.to.have.property('code', 'UNAUTHENTICATED')
    })

    it('should find each user of a token table, whatever the lengths, and nobody for a near miss', () => {
      const auth = bearerTokens({ 'sixteen-chars-ok': 'a', 'a-much-longer-token-0123456789': 'b' })
      expect([auth('sixteen-chars-ok'), auth('a-much-longer-token-0123456789')]).to.deep.equal(['a', 'b'])
      expect([auth('sixteen-chars-o'), auth('sixteen-chars-okk'), auth(''), auth(undefined), auth('a-much-longer-token-012345678')]).to.deep.equal([undefined, undefined, undefined, undefined, undefined])
    })
  })

  describe('reads', () => {
    it('should refuse the catch-up and the version of a stream the user may not read (403), giving nothing of it', async () => {
      const err = await collect(alice.readStream('bob:1')).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(SyncAccessError).and.to.include({ code: 'FORBIDDEN', action: 'read', streamId: 'bob:1' })
      expect(await alice.streamVersion('bob:1').catch((e: unknown) => e)).to.be.instanceOf(SyncAccessError)
      expect((await collect(alice.readStream('alice:1'))).map((e) => e.name)).to.deep.equal(['lives_added'])
    })

    it("should leave other streams' events, and refused names, out of the whole-log feed", async () => {
      const all = await collect(alice.readAll())
      expect(all.map((e) => [e.streamId, e.name])).to.deep.equal([['alice:1', 'lives_added']])
      const raw = await (await fetch(`${server.url}/events?access_token=token-alice`)).text()
      expect(raw).to.not.include('bob:1')
    })

    it("should refuse a live feed of another user's stream, and filter the whole-log live feed", async () => {
      const refused = alice.subscribe({ streamId: 'bob:1' }, () => {})
      expect(await refused.done.catch((e: unknown) => e)).to.be.instanceOf(SyncAccessError)
      const got: EventEnvelope[] = []
      const sub = alice.subscribe({ fromPosition: 1 }, (e) => void got.push(e))
      await admin.append('bob:1', [event('lives_added', { n: 3 })], { expectedVersion: 2 })
      await admin.append('alice:1', [event('lives_added', { n: 4 })], { expectedVersion: 2 })
      await until(() => got.length === 2, "alice's two events")
      await new Promise((r) => setTimeout(r, 30))
      await sub.close()
      expect(got.map((e) => [e.streamId, e.data])).to.deep.equal([['alice:1', { n: 1 }], ['alice:1', { n: 4 }]])
    })
  })

  describe('appends', () => {
    it("should refuse an append to another user's stream, or of a name the user may not fire, storing nothing", async () => {
      const other = await alice.append('bob:1', [event('lives_added', { n: 1 })], { expectedVersion: 'any' }).catch((e: unknown) => e)
      expect(other).to.be.instanceOf(SyncAccessError).and.to.include({ code: 'FORBIDDEN', action: 'append', streamId: 'bob:1', eventName: 'lives_added' })
      const name = await alice.append('alice:1', [event('lives_added', { n: 1 }), event('banned', { reason: 'me' })], { expectedVersion: 'any' }).catch((e: unknown) => e)
      expect(name).to.be.instanceOf(SyncAccessError).and.to.include({ eventName: 'banned' })
      expect(await admin.streamVersion('bob:1')).to.equal(2)
      expect(await admin.streamVersion('alice:1')).to.equal(2)
    })

    it('should refuse unknown names and invalid data with 422 and a typed error naming the field', async () => {
      const unknown = await post(server, '/streams/alice:1/events', 'token-alice', JSON.stringify({ expectedVersion: 'any', events: [event('lives_stolen', {})] }))
      expect(unknown.status).to.equal(422)
      expect(unknown.body.error).to.include({ code: 'UNKNOWN_EVENT', eventName: 'lives_stolen' })
      const invalid = await alice.append('alice:1', [event('lives_added', { n: -1 })], { expectedVersion: 'any' }).catch((e: unknown) => e)
      expect(invalid).to.include({ code: 'EVENT_VALIDATION', eventName: 'lives_added' })
      expect((invalid as { issues: Array<{ path: unknown[] }> }).issues[0]!.path).to.deep.equal(['n'])
      expect(await admin.streamVersion('alice:1')).to.equal(2)
    })

    it('should store the data its schema gives, not keys the schema does not know', async () => {
      const sent = await post(server, '/streams/alice:2/events', 'token-alice', JSON.stringify({ expectedVersion: 0, events: [event('lives_added', { n: 3, smuggled: 'x'.repeat(1_000) })] }))
      expect(sent.status).to.equal(200)
      const [stored] = await collect(admin.readStream('alice:2'))
      expect(stored!.data).to.deep.equal({ n: 3 })
    })

    it('should refuse malformed bodies (400), oversized bodies and batches (413), storing nothing', async () => {
      const cases: Array<[string, number, string]> = [
        ['{"expectedVersion": 0, "events": [', 400, 'BAD_REQUEST'],
        ['{"expectedVersion": -1, "events": []}', 400, 'BAD_REQUEST'],
        [JSON.stringify({ expectedVersion: 'any', events: [{ ...event('lives_added', { n: 1 }), id: 5 }] }), 400, 'BAD_REQUEST'],
        [JSON.stringify({ expectedVersion: 'any', events: [event('lives_added', { n: 1, pad: 'x'.repeat(70_000) })] }), 413, 'BODY_TOO_LARGE'],
        [JSON.stringify({ expectedVersion: 'any', events: Array.from({ length: 11 }, () => event('lives_added', { n: 1 })) }), 413, 'BATCH_TOO_LARGE'],
      ]
      for (const [body, status, code] of cases) {
        const answer = await post(server, '/streams/alice:1/events', 'token-alice', body)
        expect([answer.status, answer.body.error.code], body.slice(0, 60)).to.deep.equal([status, code])
      }
      expect(await admin.streamVersion('alice:1')).to.equal(2)
    })

    it('should refuse a prototype-polluting key in appended data with 422, as a local Fire does', async () => {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const answer = await post(server, '/streams/alice:1/events', 'token-alice', `{"expectedVersion":"any","events":[{"id":"p1","name":"lives_added","schemaVersion":1,"at":1,"meta":{},"data":{"n":1,"${key}":{"polluted":true}}}]}`)
        expect([answer.status, answer.body.error.code, answer.body.error['eventName']], key).to.deep.equal([422, 'EVENT_VALIDATION', 'lives_added'])
        expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined)
      }
      expect(await admin.streamVersion('alice:1')).to.equal(2)
    })
  })

  describe('live feeds', () => {
    it('should bound the live feeds one user holds open (429), leaving other users theirs', async () => {
      const open = [alice.subscribe({ streamId: 'alice:1' }, () => {}), alice.subscribe({ streamId: 'alice:1' }, () => {})]
      await until(() => server.handler.liveFeeds === 2, 'two feeds')
      const third = await fetch(`${server.url}/live?streamId=alice:1`, { headers: { Authorization: 'Bearer token-alice' } })
      expect(third.status).to.equal(429)
      expect(((await third.json()) as { error: { code: string } }).error.code).to.equal('TOO_MANY_CONNECTIONS')
      const bob = new RemoteStore({ url: server.url, token: 'token-bob', offline: false })
      const got: string[] = []
      bob.subscribe({ streamId: 'bob:1' }, (e) => void got.push(e.name))
      try {
        await until(() => got.length === 1, "bob's event")
      } finally {
        await Promise.all([...open.map((s) => s.close()), bob.close()])
      }
      await until(() => server.handler.liveFeeds === 0, 'every feed to close')
    })
  })
})
