import { expect } from 'chai'
import { isOmniscientError, StorageError, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { RETHINKDB_BIN, ThrowawayRethink } from '../../support/rethinkServer.js'
import { tempDir } from '../../support/tmp.js'
import { collect } from '../conformance.js'

;(RETHINKDB_BIN ? describe : describe.skip)('RethinkStore when the server is killed and restarted mid-run (needs RETHINKDB_BIN)', function () {
  this.timeout(120_000)

  it('should report the loss, recover, and let no subscriber miss or repeat an event', async () => {
    const tmp = tempDir()
    const server = await ThrowawayRethink.start(`${tmp.dir}/rethink`)
    const errors: unknown[] = []
    const writer = new RethinkStore({ url: server.url, waitTimeoutMs: 20_000, onError: (e) => errors.push(e) })
    const reader = new RethinkStore({ url: server.url, waitTimeoutMs: 20_000, onError: (e) => errors.push(e) })
    const retried: unknown[] = []
    const seen: EventEnvelope[] = []
    try {
      await writer.streamVersion('s')
      const sub = reader.subscribe({ fromPosition: 1, onRetry: (e) => retried.push(e) }, (e) => void seen.push(e))
      const total = 200
      for (let v = 0; v < total; v++) {
        if (v === 80) {
          await server.kill()
          await server.launch()
        }
        const event: NewEvent = { id: `e-${v}`, name: 'n', data: { v }, schemaVersion: 1, at: v, meta: {} }
        // A lost connection leaves an append's outcome unknown: sending the same batch again is safe.
        for (let attempt = 0; ; attempt++) {
          try {
            await writer.append('s', [event], { expectedVersion: v })
            break
          } catch (err) {
            retried.push(err)
            if (!(err instanceof StorageError) || attempt > 100) throw err
            await new Promise((r) => setTimeout(r, 100))
          }
        }
      }
      const deadline = Date.now() + 30_000
      while (seen.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      await sub.close()
      const stored = await collect(writer.readStream('s'))
      expect(stored.map((e) => e.id)).to.deep.equal(Array.from({ length: total }, (_, v) => `e-${v}`))
      expect(seen.map((e) => e.id), 'the subscriber saw each event once, in order').to.deep.equal(stored.map((e) => e.id))
      expect([...errors, ...retried].length, 'the loss was reported').to.be.greaterThan(0)
      expect(retried.every((e) => isOmniscientError(e))).to.equal(true)
    } finally {
      await Promise.all([writer.close(), reader.close()])
      await server.kill()
      tmp.remove()
    }
  })
})
