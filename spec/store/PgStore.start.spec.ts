import { createServer, createConnection, type Server, type Socket } from 'node:net'
import { expect } from 'chai'
import pg from 'pg'
import { isOmniscientError } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'

const url = PG_URL

async function code(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
    return undefined
  } catch (err) {
    return isOmniscientError(err) ? err.code : String(err)
  }
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A TCP proxy on `port` to the server, counting the migrations its clients start. */
async function countingProxy(port: number, target: URL): Promise<{ migrations(): number; close(): Promise<void> }> {
  const sent: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) })
    const seen = { text: '' }
    sent.push('')
    const at = sent.length - 1
    client.on('data', (chunk: Buffer) => {
      seen.text += chunk.toString('latin1')
      sent[at] = seen.text
      upstream.write(chunk)
    })
    upstream.pipe(client)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    migrations: () => sent.reduce((n, text) => n + text.split('SELECT pg_advisory_lock(hashtext(').length - 1, 0),
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

if (url) {
  describe('PgStore start (migration) failures', function () {
    this.timeout(30_000)
    let schema = ''
    afterEach(async () => dropSchema(schema))

    it('should start again at the next call once the server is reachable, migrating once for calls made together', async () => {
      schema = freshSchema()
      const port = await freePort()
      const target = new URL(url)
      const away = new URL(url)
      away.port = String(port)
      const store = new PgStore({ connectionString: away.toString(), schema, callTimeoutMs: 2_000 })
      let proxy: Awaited<ReturnType<typeof countingProxy>> | undefined
      try {
        expect(await code(store.streamVersion('s')), 'nothing listens yet').to.equal('STORAGE_UNAVAILABLE')
        proxy = await countingProxy(port, target)
        const calls = await Promise.all([store.streamVersion('s'), store.headPosition(), store.readLease('L'), store.streamVersion('t')])
        expect(calls).to.deep.equal([0, 0, undefined, 0])
        const appended = await store.append('s', [{ id: 'e-1', name: 'Noted', data: {}, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 0 })
        expect(appended.events.map((e) => e.version)).to.deep.equal([1])
        expect(proxy.migrations(), 'one migration for all those calls').to.equal(1)
      } finally {
        await store.close()
        await proxy?.close()
      }
    })

    it('should fail a migration past callTimeoutMs with STORAGE_UNAVAILABLE, leave no backend waiting, and migrate at a later call', async () => {
      schema = freshSchema()
      const TIMEOUT = 500
      // Another session holds the migration lock: the store's migration waits for it.
      const blocker = new pg.Client({ connectionString: url })
      await blocker.connect()
      const store = new PgStore({ connectionString: url, schema, callTimeoutMs: TIMEOUT })
      try {
        await blocker.query('SELECT pg_advisory_lock(hashtext($1))', [`omniscient-migrate:${schema}`])
        const started = Date.now()
        // The constructor's start may already be waiting: either way this call ends by the deadline.
        expect(await code(store.streamVersion('s'))).to.equal('STORAGE_UNAVAILABLE')
        expect(Date.now() - started).to.be.below(2 * TIMEOUT + 300)
        expect(await code(store.streamVersion('s')), 'a second attempt, still locked out').to.equal('STORAGE_UNAVAILABLE')
        await new Promise((r) => setTimeout(r, TIMEOUT + 300))
        const waiting = await blocker.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT pg_advisory_lock%'")
        expect(waiting.rows[0]!.n, 'backends of abandoned migrations still waiting for the lock').to.equal(0)
        await blocker.query('SELECT pg_advisory_unlock(hashtext($1))', [`omniscient-migrate:${schema}`])
        expect(await store.streamVersion('s')).to.equal(0)
        const appended = await store.append('s', [{ id: 'e-1', name: 'Noted', data: {}, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 0 })
        expect(appended.events.map((e) => e.version)).to.deep.equal([1])
      } finally {
        await store.close()
        await blocker.end()
      }
    })
  })
}
