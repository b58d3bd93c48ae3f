import { expect } from 'chai'
import { spawn, spawnSync } from 'node:child_process'
import { createReadStream, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { createContainer, defineEvents, type NewEvent } from 'omniscient-actors'
import { bearerTokens, serveSync, type SyncPermission } from 'omniscient-actors/sync-server'
import { collect } from '../../store/conformance.js'
import { startSyncServer, type HarnessOptions, type SyncServerHarness } from '../syncServer.js'

// serveSync as an attacker meets it: raw HTTP (fetch) against a server on a temp SQLite store,
// each case with its own server. What authorization refuses must be neither readable, nor
// writable, nor inferable from an answer: no name, no data, no stream, no existence.

const GameEvents = defineEvents({
  lives_added: z.object({ n: z.number().int().positive() }),
  banned: z.object({ reason: z.string() }),
  renamed: {
    schema: z.object({ first: z.string(), last: z.string() }),
    version: 2,
    upcast: { 1: (old) => ({ first: (old as { name: string }).name.trim(), last: '' }) },
  },
})

// alice and bob each read and write their own streams (`alice:...`) and read the log's head;
// only admin fires `banned`; nobody else reads the head.
function authorize({ user, action, streamId, eventName }: SyncPermission<string>): boolean {
  if (user === 'admin') return true
  if (action === 'lease') return false
  if (action === 'read' && streamId === undefined) return user !== 'bob'
  if (eventName === 'banned') return false
  return streamId !== undefined && streamId.startsWith(`${user}:`)
}

const stored = (id: string, name: string, data: unknown): NewEvent => ({ id, name, data, schemaVersion: 1, at: 1_700_000_000_000, meta: {} })

interface Answer {
  readonly status: number
  readonly text: string
  readonly body: { error?: { code: string; message: string; [k: string]: unknown }; [k: string]: unknown }
}

async function call(server: SyncServerHarness, method: 'GET' | 'POST', path: string, init: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(init.token !== undefined ? { Authorization: `Bearer ${init.token}` } : {}), ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  let body: Answer['body'] = {}
  try {
    body = JSON.parse(text) as Answer['body']
  } catch {
    // An NDJSON or empty answer: the text is what the case reads.
  }
  return { status: response.status, text, body }
}

const append = (events: unknown[], expectedVersion: number | 'any' = 'any') => ({ expectedVersion, events })

describe('serveSync, attacked from outside over raw HTTP', function () {
  this.timeout(20_000)
  let server: SyncServerHarness
  const start = async (options: HarnessOptions = {}) => {
    server = await startSyncServer({ authorize, events: [GameEvents], ...options })
    const store = server.container.store
    // Ids an attacker can guess (derivedId makes them from known parts).
    await store.append('alice:1', [stored('alice-lives-1', 'lives_added', { n: 1 })], { expectedVersion: 0 })
    await store.append('alice:1', [stored('alice-banned-1', 'banned', { reason: 'secret reason' })], { expectedVersion: 1 })
    await store.append('bob:1', [stored('bob-lives-1', 'lives_added', { n: 7 })], { expectedVersion: 0 })
    return server
  }
  afterEach(async () => {
    await server?.dispose()
  })

  describe('a retried append (ids already stored)', () => {
    it('should never answer with a stored event the user may not read, whatever expectedVersion says', async () => {
      await start()
      for (const expectedVersion of ['any', 0, 2] as const) {
        const answer = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('alice-banned-1', 'lives_added', { n: 1 })], expectedVersion) })
        expect(answer.status, `expectedVersion ${expectedVersion}`).to.equal(409)
        expect(answer.body.error).to.deep.equal({ code: 'IDEMPOTENCY', eventId: 'alice-banned-1', message: 'event id "alice-banned-1": is already taken by another event; nothing was stored' })
        expect(answer.text).to.not.match(/banned"|secret reason|alice:1|version/)
      }
      expect(await server.container.store.streamVersion('alice:1')).to.equal(2)
    })

    it('should answer a resend of the very batch stored with the stored envelopes, and the same id with other data with the refusal', async () => {
      await start()
      const mine = stored('alice-mine-1', 'lives_added', { n: 3, unknownKey: 'dropped by the schema' })
      const first = await call(server, 'POST', '/streams/alice:2/events', { token: 'token-alice', body: append([mine], 0) })
      expect(first.status).to.equal(200)
      const again = await call(server, 'POST', '/streams/alice:2/events', { token: 'token-alice', body: append([mine], 0) })
      expect([again.status, again.body.alreadyStored]).to.deep.equal([200, true])
      expect(again.body.events).to.deep.equal(first.body.events)
      const other = await call(server, 'POST', '/streams/alice:2/events', { token: 'token-alice', body: append([{ ...mine, data: { n: 4 } }]) })
      expect([other.status, other.body.error?.code]).to.deep.equal([409, 'IDEMPOTENCY'])
      expect(other.text).to.not.include('"n":3')
    })
  })

  describe('an id stored on another stream', () => {
    it('should say only that the id is taken, as it says for any taken id', async () => {
      await start()
      const elsewhere = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('bob-lives-1', 'lives_added', { n: 7 })]) })
      expect(elsewhere.status).to.equal(409)
      expect(elsewhere.text).to.not.match(/bob:|stream/)
      const mixed = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('fresh-1', 'lives_added', { n: 1 }), stored('bob-lives-1', 'lives_added', { n: 7 })]) })
      expect(mixed.status).to.equal(409)
      expect(mixed.text).to.not.match(/bob:|stream/)
      // An id taken on the user's own stream answers the same words: the answers tell nothing apart.
      const own = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('alice-lives-1', 'lives_added', { n: 2 })]) })
      expect(own.text.replaceAll('alice-lives-1', 'ID')).to.equal(elsewhere.text.replaceAll('bob-lives-1', 'ID'))
      expect(await server.container.store.streamVersion('alice:1')).to.equal(2)
    })
  })

  describe('the smaller doors', () => {
    it('should refuse with 422, not 503, data an upcaster throws on', async () => {
      await start()
      const answer = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([{ ...stored('r-1', 'renamed', { nom: 1 }), schemaVersion: 1 }]) })
      expect([answer.status, answer.body.error?.code, answer.body.error?.['eventName']]).to.deep.equal([422, 'EVENT_VALIDATION', 'renamed'])
      const fine = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([{ ...stored('r-2', 'renamed', { name: ' Al ' }), schemaVersion: 1 }]) })
      expect(fine.status).to.equal(200)
    })

    it('should serve under its prefix by whole path segments only', async () => {
      await start({ server: { prefix: '/sync' } })
      const base = server
      const at = (path: string) => call(base, 'GET', path, { token: 'token-alice' })
      expect((await at('/sync/streams/alice:1')).status).to.equal(200)
      expect((await at('/sync/')).status).to.equal(404)
      for (const path of ['/sync-admin/streams/alice:1', '/syncfoo/streams/alice:1', '/syncstreams/alice:1']) {
        const answer = await at(path)
        expect([answer.status, answer.text.includes('alice:1')], path).to.deep.equal([404, false])
      }
    })

    it('should let curl read the 413 of an oversized chunked body, every time', async function () {
      if (spawnSync('curl', ['--version']).status !== 0) return this.skip()
      await start({ server: { maxBodyBytes: 1024 } })
      const file = join(server.dir, 'big.json')
      writeFileSync(file, `{"expectedVersion":"any","events":[{"id":"big","name":"lives_added","schemaVersion":1,"at":1,"data":{"n":1,"pad":"${'x'.repeat(16 * 1024 * 1024)}"}}]}`)
      for (let round = 0; round < 6; round++) {
        // `-T -` streams stdin chunked, still sending when the answer comes.
        const curl = spawn('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', 'POST', '-H', 'Authorization: Bearer token-alice', '-H', 'Content-Type: application/json', '-T', '-', `${server.url}/streams/alice:1/events`])
        createReadStream(file).pipe(curl.stdin).on('error', () => undefined)
        curl.stdin.on('error', () => undefined)
        let out = ''
        curl.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
        const exit = await new Promise<number | null>((resolve) => curl.on('close', resolve))
        const [body, status] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)]
        expect([exit, status], `round ${round}`).to.deep.equal([0, '413'])
        expect((JSON.parse(body) as Answer['body']).error?.code).to.equal('BODY_TOO_LARGE')
      }
      expect(await server.container.store.streamVersion('alice:1')).to.equal(2)
    })

    it('should ask authorize for the head, a read of no stream', async () => {
      await start()
      expect((await call(server, 'GET', '/head', { token: 'token-alice' })).body).to.deep.equal({ position: 3 })
      const bob = await call(server, 'GET', '/head', { token: 'token-bob' })
      expect([bob.status, bob.body.error?.code]).to.deep.equal([403, 'FORBIDDEN'])
      expect(bob.text).to.not.include('3')
    })

    it('should refuse an empty batch to a stream the user may not append to with 403, and to its own with 400', async () => {
      await start()
      const forbidden = await call(server, 'POST', '/streams/bob:1/events', { token: 'token-alice', body: append([]) })
      expect([forbidden.status, forbidden.body.error?.code]).to.deep.equal([403, 'FORBIDDEN'])
      const own = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([]) })
      expect([own.status, own.body.error?.code, own.body.error?.['argument']]).to.deep.equal([400, 'INVALID_ARGUMENT', 'events'])
    })

    it('should refuse to be made without authenticate or authorize, instead of answering 503', async () => {
      const container = createContainer()
      const hooks = { authenticate: () => 'alice', authorize: () => true }
      for (const options of [{ authorize: hooks.authorize }, { authenticate: hooks.authenticate }, { ...hooks, authenticate: 'alice' }, { ...hooks, authorise: () => true }]) {
        let err: unknown
        try {
          serveSync(container, options as never)
        } catch (e) {
          err = e
        }
        expect(err, JSON.stringify(Object.keys(options))).to.include({ code: 'INVALID_OPTIONS' })
      }
      await container.close()
    })

    it('should end a live feed within reauthorizeMs of its permission being taken back', async () => {
      let allowed = true
      await start({ authorize: (p) => (p.streamId === 'alice:1' && p.action === 'read' ? allowed : authorize(p)), server: { reauthorizeMs: 100 } })
      const feed = await fetch(`${server.url}/live?streamId=alice:1`, { headers: { Authorization: 'Bearer token-alice' } })
      expect(feed.status).to.equal(200)
      const reader = feed.body!.getReader()
      let text = ''
      const decoder = new TextDecoder()
      const read = (async () => {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return
          text += decoder.decode(value)
        }
      })()
      await new Promise((r) => setTimeout(r, 300))
      expect(server.handler.liveFeeds).to.equal(1)
      allowed = false
      const ended = Date.now()
      await read
      expect(Date.now() - ended).to.be.below(1_000)
      expect(text).to.include('"alice-lives-1"')
      expect(server.handler.liveFeeds).to.equal(0)
      const again = await fetch(`${server.url}/live?streamId=alice:1`, { headers: { Authorization: 'Bearer token-alice' } })
      expect(again.status).to.equal(403)
    })

    it('should stop sending a whole-log feed the events of a name refused since, within reauthorizeMs', async () => {
      let livesVisible = true
      await start({ authorize: (p) => (p.eventName === 'lives_added' && p.user === 'alice' && p.action === 'read' ? livesVisible : authorize(p)), server: { reauthorizeMs: 100 } })
      const controller = new AbortController()
      const feed = await fetch(`${server.url}/live`, { headers: { Authorization: 'Bearer token-alice' }, signal: controller.signal })
      const reader = feed.body!.getReader()
      let text = ''
      const decoder = new TextDecoder()
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }))
          if (done) return
          text += decoder.decode(value)
        }
      })()
      await new Promise((r) => setTimeout(r, 200))
      expect(text).to.include('"alice-lives-1"')
      livesVisible = false
      await new Promise((r) => setTimeout(r, 300))
      await server.container.store.append('alice:1', [stored('alice-lives-2', 'lives_added', { n: 2 })], { expectedVersion: 2 })
      await new Promise((r) => setTimeout(r, 300))
      controller.abort()
      expect(text).to.not.include('alice-lives-2')
    })
  })

  describe('what the docs decide', () => {
    it('should refuse an event whose at is not an integer, naming the field, with 400', async () => {
      await start()
      for (const at of [1.5, '1', null]) {
        const answer = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([{ ...stored('at-1', 'lives_added', { n: 1 }), at }]) })
        expect([answer.status, answer.body.error?.code], String(at)).to.deep.equal([400, 'BAD_REQUEST'])
        expect(answer.body.error?.message).to.include('events[0].at')
      }
    })

    it('should count an id by the stores one rule, in UTF-8 bytes, whatever its characters', async () => {
      await start()
      // 100 characters, 300 bytes: over the 256-byte limit every store keeps.
      const answer = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('€'.repeat(100), 'lives_added', { n: 1 })]) })
      expect([answer.status, answer.body.error?.code]).to.deep.equal([400, 'BAD_REQUEST'])
      expect(answer.body.error?.message).to.include('events[0].id').and.include('bytes')
      const fits = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('€'.repeat(85), 'lives_added', { n: 1 })]) })
      expect(fits.status).to.equal(200)
    })

    it('should refuse data nesting past 64 levels with 422 UNSERIALIZABLE, with catalogs or without', async () => {
      let deep: unknown = 1
      for (let i = 0; i < 70; i++) deep = { d: deep }
      for (const catalogs of [true, false]) {
        if (!catalogs) await server.dispose()
        server = await startSyncServer({ authorize, ...(catalogs ? { events: [GameEvents] } : {}) })
        const answer = await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body: append([stored('deep-1', 'lives_added', deep)]) })
        expect([answer.status, answer.body.error?.code], catalogs ? 'catalogs' : 'none').to.deep.equal([422, 'UNSERIALIZABLE'])
      }
    })

    it('should keep a __proto__ key out of every read when the server has no catalogs, the stored-text catch-up too', async () => {
      server = await startSyncServer({ authorize })
      const body = `{"expectedVersion":0,"events":[{"id":"p-1","name":"note","schemaVersion":1,"at":1,"data":{"n":1,"__proto__":{"polluted":true},"constructor":"x"}}]}`
      expect((await call(server, 'POST', '/streams/alice:1/events', { token: 'token-alice', body })).status).to.equal(200)
      for (const path of ['/events', '/streams/alice:1/events', '/events?streamId=alice:1']) {
        const answer = await call(server, 'GET', path, { token: 'token-alice' })
        expect(answer.text, path).to.not.match(/__proto__|constructor|polluted/)
        expect((JSON.parse(answer.text.trim()) as { data: unknown }).data, path).to.deep.equal({ n: 1 })
      }
    })

    it('should take a name holding a comma whole with name=, and split names= on commas', async () => {
      await start()
      const store = server.container.store
      await store.append('alice:2', [stored('c-1', 'a,b', 1), stored('c-2', 'a', 2), stored('c-3', 'b', 3), stored('c-4', 'c', 4)], { expectedVersion: 0 })
      const names = async (query: string) =>
        (await call(server, 'GET', `/events?streamId=alice:2&${query}`, { token: 'token-alice' })).text
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { name: string }).name)
      expect(await names('name=a%2Cb')).to.deep.equal(['a,b'])
      expect(await names('names=a,b')).to.deep.equal(['a', 'b'])
      expect(await names('name=a%2Cb&names=c')).to.deep.equal(['a,b', 'c'])
    })
  })

  describe('who is asking', () => {
    for (const [what, answer] of [['null', null], ['false', false], ['the empty string', ''], ['0', 0]] as const) {
      it(`should refuse with 401 when authenticate answers ${what}, reads and appends alike`, async () => {
        const users = new Map([['token-alice', 'alice']])
        await start({ server: { authenticate: (token) => users.get(token ?? '') ?? answer } })
        for (const token of [undefined, 'not-a-token']) {
          expect((await call(server, 'GET', '/head', { token })).status).to.equal(401)
          expect((await call(server, 'GET', '/events', { token })).status).to.equal(401)
          const post = await call(server, 'POST', '/streams/x:1/events', { token, body: append([stored('anon-1', 'lives_added', { n: 1 })]) })
          expect([post.status, post.body.error?.code]).to.deep.equal([401, 'UNAUTHENTICATED'])
        }
        expect(await server.container.store.streamVersion('x:1')).to.equal(0)
      })
    }

    it('should never hand the hook an empty token', async () => {
      const seen: Array<string | undefined> = []
      await start({ server: { authenticate: (token) => (seen.push(token), token === undefined ? undefined : 'alice') } })
      expect((await call(server, 'GET', '/head', { headers: { Authorization: 'Bearer ' } })).status).to.equal(401)
      expect((await call(server, 'GET', '/head?access_token=')).status).to.equal(401)
      expect(seen).to.deep.equal([undefined, undefined])
    })
  })

  describe('bearerTokens', () => {
    it('should refuse to build a table with a token shorter than 16 characters, naming the entry and not the token', () => {
      const unset = process.env['OMNISCIENT_SPEC_UNSET_TOKEN']
      for (const table of [{ [String(unset)]: 'alice' }, { '': 'alice' }, { 'fifteen-chars-x': 'alice' }]) {
        let err: unknown
        try {
          bearerTokens(table)
        } catch (e) {
          err = e
        }
        expect(err, JSON.stringify(table)).to.include({ code: 'INVALID_OPTIONS' })
        expect((err as Error).message).to.include('user "alice"').and.include('16')
        expect((err as Error).message).to.not.include('fifteen-chars-x')
      }
    })

    it('should let nobody in with a missing, empty or "undefined" token', async () => {
      await start({ server: { authenticate: bearerTokens({ 'alice-token-0123456789': 'alice' }) } })
      expect((await call(server, 'GET', '/head', { token: 'alice-token-0123456789' })).status).to.equal(200)
      for (const [path, headers] of [
        ['/head', {}],
        ['/head', { Authorization: 'Bearer' }],
        ['/head', { Authorization: 'Bearer ' }],
        ['/head', { Authorization: 'Bearer undefined' }],
        ['/head?access_token=', {}],
        ['/head?access_token=undefined', {}],
      ] as const) {
        expect((await call(server, 'GET', path, { headers })).status, `${path} ${JSON.stringify(headers)}`).to.equal(401)
      }
      expect(await collect(server.container.store.readAll())).to.have.length(3)
    })
  })
})
