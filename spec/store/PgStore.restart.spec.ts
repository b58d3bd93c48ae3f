import { execSync } from 'node:child_process'
import { expect } from 'chai'
import { isOmniscientError } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { appendThroughRestart } from '../support/throughRestart.js'

const PG_CTL = process.env['PG_CTL']
const url = PG_URL

if (url && PG_CTL) {
  describe('PgStore when the server restarts mid-run', function () {
    this.timeout(60_000)

    it('should report the lost connection, recover, and let no subscriber miss or repeat an event', async () => {
      const schema = freshSchema()
      const errors: unknown[] = []
      const writer = new PgStore({ connectionString: url, schema, onError: (e) => errors.push(e) })
      const reader = new PgStore({ connectionString: url, schema, onError: (e) => errors.push(e) })
      let restarted = false
      const { seen, stored, retried } = await appendThroughRestart({
        writer,
        reader,
        total: 300,
        restartAt: 100,
        restart: () => {
          execSync(`${PG_CTL} -m fast -w restart > /dev/null`, { stdio: 'ignore' })
          restarted = true
        },
        retryDelayMs: 50,
        catchUpMs: 20_000,
      })
      expect(restarted).to.equal(true)
      expect(stored.map((e) => e.id)).to.deep.equal(Array.from({ length: 300 }, (_, v) => `e-${v}`))
      expect(seen.map((e) => e.id), 'the subscriber saw each event once, in order').to.deep.equal(stored.map((e) => e.id))
      const reported = [...errors, ...retried]
      if (process.env['SHOW_RESTART']) console.log(`      reported: ${errors.length} connection errors, ${retried.length} retries: ${reported.map((e) => (e as { code?: string }).code ?? (e as Error).message).slice(0, 6).join(', ')}`)
      expect(reported.length, 'the loss was reported').to.be.greaterThan(0)
      expect(retried.every((e) => isOmniscientError(e))).to.equal(true)
      await Promise.all([writer.close(), reader.close()])
      await dropSchema(schema)
    })
  })
}
