import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { collect } from '../conformance.js'
import { startWorker, waitUntil } from '../../support/processes.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

const ROUNDS = Number(process.env['FAULT_ROUNDS'] ?? 5)
const STREAMS = 6

/**
 * A writer killed with kill -9 can stop between any two steps of an append: after its claims
 * or its log entry (in steps, or inside the one query of a group sent at once), after its
 * commits, before its head move (sent alone, or waiting to ride along). Each round kills one
 * after a random number of acknowledged appends, so over the rounds the kill lands on every
 * step.
 */
;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore when a writing process is killed (kill -9) at any step of its appends (needs RETHINKDB_URL)', function () {
  this.timeout(60_000 + ROUNDS * 30_000)

  it('should keep every acknowledged append, place every stored one once, and store a re-sent batch exactly once', async () => {
    const tablePrefix = freshPrefix()
    const store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix })
    const sent = new Map<string, string>() // event id -> stream
    const acked = new Map<string, { stream: string; version: number; position: number }>()
    try {
      await store.streamVersion('s0')
      for (let round = 0; round < ROUNDS; round++) {
        const worker = startWorker('rethinkAppender', [RETHINKDB_URL!, tablePrefix, `r${round}`, String(STREAMS)])
        const target = 1 + Math.floor(Math.random() * 40)
        const acks = () => worker.lines.filter((l) => l.startsWith('ack ')).length
        await waitUntil(() => acks() >= target || worker.exitCode !== null, 30_000, `${target} acknowledged appends`)
        worker.kill('SIGKILL')
        await worker.exited
        for (const line of worker.lines) {
          const [kind, stream, id, version, position] = line.split(' ')
          if (kind === 'send') sent.set(id!, stream!)
          if (kind === 'ack') acked.set(id!, { stream: stream!, version: Number(version), position: Number(position) })
        }
      }
      expect(acked.size).to.be.greaterThan(0)

      // Every batch sent is sent again, as a caller that never heard back must: stored once.
      for (const [id, stream] of sent) {
        const result = await store.append(stream, [{ id, name: 'n', data: {}, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 'any' })
        expect(result.events[0]!.id).to.equal(id)
        const before = acked.get(id)
        if (before) {
          expect(result.alreadyStored, `${id} was acknowledged`).to.equal(true)
          expect([result.events[0]!.version, result.events[0]!.position]).to.deep.equal([before.version, before.position])
        }
      }

      const byStream = new Map<string, EventEnvelope[]>()
      for (let s = 0; s < STREAMS; s++) {
        const events = await collect(store.readStream(`s${s}`))
        expect(events.map((e) => e.version), `s${s} has no gap`).to.deep.equal(events.map((_, i) => i + 1))
        byStream.set(`s${s}`, events)
      }
      const stored = [...byStream.values()].flat()
      expect(stored.map((e) => e.id).sort(), 'each batch sent is stored, once').to.deep.equal([...sent.keys()].sort())
      for (const [id, at] of acked) {
        const e = stored.find((x) => x.id === id)!
        expect([e.streamId, e.version, e.position], `${id} where it was acknowledged`).to.deep.equal([at.stream, at.version, at.position])
      }

      const all = await collect(store.readAll())
      expect(all.map((e) => e.id).sort(), 'readAll holds every stored event once').to.deep.equal(stored.map((e) => e.id).sort())
      const positions = all.map((e) => e.position)
      expect(positions, 'positions only increase').to.deep.equal([...positions].sort((a, b) => a - b))
      expect(new Set(positions).size).to.equal(positions.length)
      for (const events of byStream.values()) {
        const ps = events.map((e) => e.position)
        expect(ps, 'a stream in version order is in position order').to.deep.equal([...ps].sort((a, b) => a - b))
      }
    } finally {
      await store.close()
      await dropTables(tablePrefix)
    }
  })
})
