import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'
import { SilentProxy } from '../../support/SilentProxy.js'
import { settle } from '../../support/settle.js'

const TIMEOUT = 400

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore call deadlines (callTimeoutMs) on a silent link', function () {
  this.timeout(60_000)
  let proxy: SilentProxy
  let store: RethinkStore
  let prefix: string

  beforeEach(async () => {
    const target = new URL(RETHINKDB_URL!)
    proxy = await SilentProxy.start({ host: target.hostname, port: Number(target.port || 28015) })
    target.host = `127.0.0.1:${proxy.port}`
    prefix = freshPrefix()
    store = new RethinkStore({ url: target.toString(), tablePrefix: prefix, callTimeoutMs: TIMEOUT })
    await store.append('s', [newEvent('warm', {}, `${prefix}warm`)], { expectedVersion: 0 })
  })

  afterEach(async () => {
    proxy.heal()
    await store.close()
    await proxy.close()
    await dropTables(prefix)
  })

  it('should fail an append with STORAGE_INDETERMINATE within the deadline, and store it once when retried after heal', async () => {
    proxy.silence()
    const event = newEvent('noted', {}, `${prefix}e-1`)
    const lost = await settle(store.append('s', [event], { expectedVersion: 1 }))
    expect(lost.code).to.equal('STORAGE_INDETERMINATE')
    expect(lost.ms).to.be.within(TIMEOUT - 10, TIMEOUT + 300)
    proxy.heal()
    const retried = await store.append('s', [event], { expectedVersion: 1 })
    expect(retried.events.map((e) => e.version)).to.deep.equal([2])
    const ids: string[] = []
    for await (const e of store.readStream('s')) ids.push(e.id)
    expect(ids).to.deep.equal([`${prefix}warm`, `${prefix}e-1`])
  })

  it('should fail reads, lease calls and checkpoints within the deadline', async () => {
    proxy.silence()
    const calls = await Promise.all([
      settle(store.streamVersion('s')),
      settle((async () => {
        for await (const e of store.readStream('s')) void e
      })()),
      settle(store.acquireLease('one/L/1', 'me', 2_000, Date.now())),
      settle(store.saveCheckpoint('c', 1)),
    ])
    for (const call of calls) {
      expect(call.code).to.be.oneOf(['STORAGE_UNAVAILABLE', 'STORAGE_INDETERMINATE'])
      expect(call.ms).to.be.below(TIMEOUT + 300)
    }
    expect(calls[0]?.code).to.equal('STORAGE_UNAVAILABLE')
  })

  it('should keep a subscription delivering after a silence, through a new connection', async () => {
    const seen: EventEnvelope[] = []
    const sub = store.subscribe({ fromPosition: 1 }, (e) => void seen.push(e))
    await waitFor(() => seen.length === 1, 10_000)
    proxy.silence()
    // The tail's idle re-read (each second) misses its deadline and closes the connection.
    await new Promise((r) => setTimeout(r, 1_000 + TIMEOUT + 200))
    proxy.heal()
    const direct = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    await direct.append('s', [newEvent('after', {}, `${prefix}after`)], { expectedVersion: 1 })
    await waitFor(() => seen.length === 2, 10_000)
    expect(seen.map((e) => e.id)).to.deep.equal([`${prefix}warm`, `${prefix}after`])
    await sub.close()
    await direct.close()
  })
})
