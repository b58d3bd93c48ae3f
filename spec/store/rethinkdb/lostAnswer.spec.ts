import { expect } from 'chai'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

/**
 * A TCP proxy in front of the server that, once, forwards the query carrying `marker` and then
 * cuts the client's connection: the server gets the write, the client never gets its answer.
 */
async function answerLosingProxy(target: URL, marker: string): Promise<{ port: number; cuts: () => number; close: () => Promise<void> }> {
  let cut = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 28015), target.hostname)
    sockets.add(client).add(upstream)
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      if (cut === 0 && chunk.includes(marker)) {
        cut++
        client.destroy()
      }
    })
    upstream.on('data', (chunk: Buffer) => client.writable && client.write(chunk))
    const end = () => {
      client.destroy()
      upstream.end()
    }
    client.on('close', () => upstream.end())
    client.on('error', end)
    upstream.on('error', end)
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    cuts: () => cut,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore: an append whose answer is lost (needs RETHINKDB_URL)', function () {
  this.timeout(30_000)

  // The first query carrying the marker is the one whose answer is lost: `"commitId"` first
  // appears in the claim of the event ids, `"events"` only in the commit itself.
  for (const [what, marker] of [['the commit', '"events"'], ['the claim of its event ids', '"commitId"']] as const) {
    it(`should resolve a lost answer to ${what} by sending it again: stored exactly once, and the append succeeds`, async () => {
      const url = new URL(RETHINKDB_URL!)
      const tablePrefix = freshPrefix()
      // Set up the tables directly first, so the proxy only sees the append.
      const direct = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix })
      await direct.streamVersion('s')
      const proxy = await answerLosingProxy(url, marker)
      const store = new RethinkStore({ url: `rethinkdb://127.0.0.1:${proxy.port}${url.pathname}`, tablePrefix })
      try {
        const batch = [newEvent('happened', { n: 1 }), newEvent('happened', { n: 2 })]
        const result = await store.append('s', batch, { expectedVersion: 0 })
        expect(proxy.cuts()).to.equal(1)
        expect(result.events.map((e) => e.version)).to.deep.equal([1, 2])
        const stored = await collect(direct.readStream('s'))
        expect(stored.map((e) => e.id)).to.deep.equal(batch.map((e) => e.id))
        expect(await direct.streamVersion('s')).to.equal(2)
      } finally {
        await store.close()
        await direct.close()
        await proxy.close()
        await dropTables(tablePrefix)
      }
    })
  }
  it('should resolve a lost answer to a group sent at once (entry, claims and commit in one query): stored exactly once', async () => {
    const url = new URL(RETHINKDB_URL!)
    const tablePrefix = freshPrefix()
    const direct = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix })
    await direct.streamVersion('s')
    // Only the second append carries the marker: the first one teaches the store its newest entry.
    const proxy = await answerLosingProxy(url, 'lost-at-once')
    const store = new RethinkStore({ url: `rethinkdb://127.0.0.1:${proxy.port}${url.pathname}`, tablePrefix })
    try {
      const firstBatch = [newEvent('happened', { n: 1 })]
      await store.append('s', firstBatch, { expectedVersion: 0 })
      const batch = [newEvent('happened', { n: 'lost-at-once' }), newEvent('happened', { n: 3 })]
      const result = await store.append('s', batch, { expectedVersion: 1 })
      expect(proxy.cuts()).to.equal(1)
      expect(result.alreadyStored).to.equal(false)
      expect(result.events.map((e) => e.version)).to.deep.equal([2, 3])
      const stored = await collect(direct.readStream('s'))
      expect(stored.map((e) => e.id)).to.deep.equal([...firstBatch, ...batch].map((e) => e.id))
      expect((await collect(store.readAll())).map((e) => e.id)).to.deep.equal([...firstBatch, ...batch].map((e) => e.id))
    } finally {
      await store.close()
      await direct.close()
      await proxy.close()
      await dropTables(tablePrefix)
    }
  })
})
