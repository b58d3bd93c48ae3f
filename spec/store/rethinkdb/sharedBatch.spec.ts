import { expect } from 'chai'
import { IdempotencyError, LeaseLostError } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// The same batch (same event ids) appended by two processes, as a projection's derived events
// are by its old and its new leader: each one's claims are its own, so one that fails can
// never free the ids of the other's stored commit.

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore: one batch appended by two processes (needs RETHINKDB_URL)', function () {
  this.timeout(30_000)
  let prefix = ''
  let leader: RethinkStore
  let deposed: RethinkStore
  beforeEach(() => {
    prefix = freshPrefix()
    leader = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    deposed = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
  })
  afterEach(async () => {
    await Promise.all([leader.close(), deposed.close()])
    await dropTables(prefix)
  })

  it('should keep a stored batch stored once when a deposed writer of the same batch fails at the same version', async () => {
    const now = Date.now()
    const term = (await leader.acquireLease('derive', 'new', 60_000, now)).term
    const batch = [newEvent(), newEvent()]
    const stored = await leader.append('target', batch, { expectedVersion: 0, lease: { name: 'derive', term } })
    // The old leader sends the same batch at the same version under its older term: refused.
    const refused = await deposed.append('target', batch, { expectedVersion: 0, lease: { name: 'derive', term: term - 1 } }).catch((e: unknown) => e)
    expect(refused).to.be.instanceOf(LeaseLostError)
    // The batch again, at the stream's current version: still answered as stored, never stored twice.
    const again = await leader.append('target', batch, { expectedVersion: 'any', lease: { name: 'derive', term } })
    expect(again.alreadyStored).to.equal(true)
    expect(again.events.map((e) => e.position)).to.deep.equal(stored.events.map((e) => e.position))
    expect((await collect(leader.readStream('target'))).map((e) => e.id)).to.deep.equal(batch.map((e) => e.id))
  })
  it('should store a batch sent by two processes at once exactly once', async () => {
    for (let round = 0; round < 10; round++) {
      const batch = [newEvent(), newEvent()]
      const stream = `both-${round}`
      const results = await Promise.allSettled([leader, deposed].map((s) => s.append(stream, batch, { expectedVersion: 'any' })))
      // One stores it; the other is told it is stored, or that another append took it over.
      expect(results.some((r) => r.status === 'fulfilled' && !r.value.alreadyStored)).to.equal(true)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(IdempotencyError)
      expect((await collect(leader.readStream(stream))).map((e) => e.id)).to.deep.equal(batch.map((e) => e.id))
    }
  })
})
