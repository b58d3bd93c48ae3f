import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { SilentProxy } from '../support/SilentProxy.js'
import { settle } from '../support/settle.js'

const url = PG_URL
const TIMEOUT = 400

const event = (id: string) => ({ id, name: 'Noted', data: { id }, schemaVersion: 1, at: 0, meta: {} })

if (url) {
  describe('PgStore call deadlines (callTimeoutMs) on a silent link', function () {
    this.timeout(30_000)
    let proxy: SilentProxy
    let store: PgStore
    let schema: string
    const reported: unknown[] = []

    beforeEach(async () => {
      const target = new URL(url)
      proxy = await SilentProxy.start({ host: target.hostname, port: Number(target.port) })
      target.port = String(proxy.port)
      schema = freshSchema()
      reported.length = 0
      store = new PgStore({ connectionString: target.toString(), schema, callTimeoutMs: TIMEOUT, onError: (e) => reported.push(e) })
      await store.append('s', [event('warm-up')], { expectedVersion: 0 })
    })

    afterEach(async () => {
      proxy.heal()
      await store.close()
      await proxy.close()
      await dropSchema(schema)
    })

    it('should fail an append with STORAGE_INDETERMINATE within the deadline, and store it once when retried after heal', async () => {
      proxy.silence()
      const lost = await settle(store.append('s', [event('e-1')], { expectedVersion: 1 }))
      expect(lost.code).to.equal('STORAGE_INDETERMINATE')
      expect(lost.ms).to.be.within(TIMEOUT - 10, TIMEOUT + 300)
      proxy.heal()
      // The held statement may reach the server after heal, or not: the retry settles it.
      const retried = await store.append('s', [event('e-1')], { expectedVersion: 1 })
      expect(retried.events.map((e) => e.version)).to.deep.equal([2])
      const ids: string[] = []
      for await (const e of store.readStream('s')) ids.push(e.id)
      expect(ids).to.deep.equal(['warm-up', 'e-1'])
    })

    it('should answer an append queued behind a group in flight by its own deadline', async () => {
      proxy.silence()
      const first = settle(store.append('s', [event('q-1')], { expectedVersion: 1 }))
      await new Promise((r) => setTimeout(r, 20))
      // Same stream: it waits for the first group, whose call only ends at its deadline.
      const second = await settle(store.append('s', [event('q-2')], { expectedVersion: 2 }))
      expect(second.code).to.equal('STORAGE_INDETERMINATE')
      expect(second.ms).to.be.below(TIMEOUT + 200)
      expect((await first).code).to.equal('STORAGE_INDETERMINATE')
    })

    it('should fail reads, lease calls and checkpoints with STORAGE_UNAVAILABLE within the deadline', async () => {
      proxy.silence()
      const calls = await Promise.all([
        settle(store.streamVersion('s')),
        settle((async () => {
          for await (const e of store.readStream('s')) void e
        })()),
        settle(store.acquireLease('one/L/1', 'me', 2_000, Date.now())),
        settle(store.saveCheckpoint('c', 1)),
        settle(store.readModels().info('m')),
      ])
      for (const call of calls) {
        expect(call.code).to.equal('STORAGE_UNAVAILABLE')
        expect(call.ms).to.be.below(TIMEOUT + 300)
      }
    })

    it('should never reuse a connection that missed its deadline', async () => {
      proxy.silence()
      await settle(store.streamVersion('s'))
      proxy.heal()
      // The discarded connection's late answer would be read as the next call's answer.
      for (let i = 0; i < 5; i++) expect(await store.streamVersion('s')).to.equal(1)
      expect(await store.headPosition()).to.be.greaterThan(0)
    })

    it('should replace a silent LISTEN connection and keep delivering after heal', async () => {
      const seen: EventEnvelope[] = []
      const sub = store.subscribe({ fromPosition: 1 }, (e) => void seen.push(e))
      await waitFor(() => seen.length === 1, 5_000)
      // Past the LISTEN statement: from here only the heartbeat can notice the silence.
      await new Promise((r) => setTimeout(r, 300))
      proxy.silence()
      const silenced = Date.now()
      // A heartbeat every 2 s, answered within callTimeoutMs: noticed within their sum.
      await waitFor(() => reported.some((e) => /heartbeat had no answer/.test((e as Error).message)), 2_000 + TIMEOUT + 1_000)
      expect(Date.now() - silenced).to.be.below(2_000 + TIMEOUT + 200)
      proxy.heal()
      const direct = new PgStore({ connectionString: url, schema })
      await direct.append('s', [event('after')], { expectedVersion: 1 })
      await waitFor(() => seen.length === 2, 5_000)
      expect(seen.map((e) => e.id)).to.deep.equal(['warm-up', 'after'])
      await sub.close()
      await direct.close()
    })

    it('should refuse a callTimeoutMs that is not a positive whole number', () => {
      expect(() => new PgStore({ connectionString: url, callTimeoutMs: 0 })).to.throw(/callTimeoutMs/)
    })
  })
}

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
