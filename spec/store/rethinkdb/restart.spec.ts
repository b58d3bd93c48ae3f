import { expect } from 'chai'
import { isOmniscientError } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { RETHINKDB_BIN, ThrowawayRethink } from '../../support/rethinkServer.js'
import { tempDir } from '../../support/tmp.js'
import { appendThroughRestart } from '../../support/throughRestart.js'

;(RETHINKDB_BIN ? describe : describe.skip)('RethinkStore when the server is killed and restarted mid-run (needs RETHINKDB_BIN)', function () {
  this.timeout(120_000)

  it('should report the loss, recover, and let no subscriber miss or repeat an event', async () => {
    const tmp = tempDir()
    const server = await ThrowawayRethink.start(`${tmp.dir}/rethink`)
    const errors: unknown[] = []
    const writer = new RethinkStore({ url: server.url, waitTimeoutMs: 20_000, onError: (e) => errors.push(e) })
    const reader = new RethinkStore({ url: server.url, waitTimeoutMs: 20_000, onError: (e) => errors.push(e) })
    try {
      await writer.streamVersion('s')
      const { seen, stored, retried } = await appendThroughRestart({
        writer,
        reader,
        total: 200,
        restartAt: 80,
        restart: async () => {
          await server.kill()
          await server.launch()
        },
        retryDelayMs: 100,
        catchUpMs: 30_000,
      })
      expect(stored.map((e) => e.id)).to.deep.equal(Array.from({ length: 200 }, (_, v) => `e-${v}`))
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
