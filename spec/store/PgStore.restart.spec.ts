import { execSync } from 'node:child_process'
import { expect } from 'chai'
import { isOmniscientError, StorageError, type EventEnvelope, type NewEvent } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { collect } from './conformance.js'

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
      const retried: unknown[] = []
      const seen: EventEnvelope[] = []
      const sub = reader.subscribe({ fromPosition: 1, onRetry: (e) => retried.push(e) }, (e) => void seen.push(e))

      const total = 300
      let restarted = false
      for (let v = 0; v < total; v++) {
        if (v === 100) {
          execSync(`${PG_CTL} -m fast -w restart > /dev/null`, { stdio: 'ignore' })
          restarted = true
        }
        const event: NewEvent = { id: `e-${v}`, name: 'n', data: { v }, schemaVersion: 1, at: v, meta: {} }
        // A lost connection leaves an append's outcome unknown: sending it again is safe.
        for (let attempt = 0; ; attempt++) {
          try {
            await writer.append('s', [event], { expectedVersion: v })
            break
          } catch (err) {
            retried.push(err)
            if (!(err instanceof StorageError) || attempt > 100) throw err
            await new Promise((r) => setTimeout(r, 50))
          }
        }
      }
      expect(restarted).to.equal(true)
      const deadline = Date.now() + 20_000
      while (seen.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      await sub.close()

      const stored = await collect(writer.readStream('s'))
      expect(stored.map((e) => e.id)).to.deep.equal(Array.from({ length: total }, (_, v) => `e-${v}`))
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
