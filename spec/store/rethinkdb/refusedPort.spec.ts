import { expect } from 'chai'
import { createServer } from 'node:net'
import { StorageError } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { RethinkConnection } from '../../../lib/store/rethinkdb/RethinkConnection.js'

/** A loopback port nothing listens on (bound, then released). */
async function refusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('RethinkStore without a server (a port that refuses connections)', () => {
  it('should keep trying with backoff, then fail the query with STORAGE_UNAVAILABLE after waitTimeoutMs', async () => {
    const failures: unknown[] = []
    const db = new RethinkConnection({ host: '127.0.0.1', port: await refusedPort(), db: 'x' }, { waitTimeoutMs: 400, onError: (err) => failures.push(err) })
    const started = Date.now()
    const err = await db.open('read').catch((e: unknown) => e)
    expect(err).to.be.instanceOf(StorageError).and.to.include({ code: 'STORAGE_UNAVAILABLE' })
    expect((err as Error).message).to.match(/no connection to 127\.0\.0\.1:\d+ within 400 ms/)
    expect(Date.now() - started).to.be.within(350, 2_000)
    // Several attempts, spaced out (25, 50, 100, 200 ms...), not a busy loop.
    expect(failures.length).to.be.within(3, 8)
    await db.close()
  })

  it('should stop reconnecting once closed, and refuse queries after', async () => {
    const failures: unknown[] = []
    const db = new RethinkConnection({ host: '127.0.0.1', port: await refusedPort(), db: 'x' }, { waitTimeoutMs: 5_000, onError: (err) => failures.push(err) })
    const pending = db.open('read').catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await db.close()
    expect(await pending).to.be.instanceOf(StorageError).and.to.include({ code: 'STORE_CLOSED' })
    const seen = failures.length
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(failures.length).to.be.at.most(seen + 1)
    expect(await db.open('read').catch((e: unknown) => e)).to.include({ code: 'STORE_CLOSED' })
  })

  it('should reject an append with a typed error, try the set-up again on the next call, and close cleanly', async () => {
    const attempts: unknown[] = []
    const store = new RethinkStore({ url: `rethinkdb://127.0.0.1:${await refusedPort()}/x`, waitTimeoutMs: 300, onError: (e) => attempts.push(e) })
    const event = { id: 'e1', name: 'happened', data: {}, schemaVersion: 1, at: 0, meta: {} }
    const err = await store.append('s', [event], { expectedVersion: 0 }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(StorageError).and.to.include({ code: 'STORAGE_UNAVAILABLE' })
    const before = attempts.length
    // A store opened while the server was away is not dead: the next call sets up again.
    expect(await store.streamVersion('s').catch((e: unknown) => e)).to.include({ code: 'STORAGE_UNAVAILABLE' })
    expect(attempts.length).to.be.greaterThan(before)
    await store.close()
    expect(() => store.subscribe({}, () => {})).to.throw(StorageError, /closed/)
  })
})
