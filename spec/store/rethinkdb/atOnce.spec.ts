import { expect } from 'chai'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { RethinkConnection } from '../../../lib/store/rethinkdb/RethinkConnection.js'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// A group goes in one query when the store knows its newest log entry and every predecessor;
// these play the cases where that guess is wrong and the group must go in steps.

/** Counts the queries of every store, by what they do (RethinkConnection's `what`). */
function countQueries(): { counts: Map<string, number>; restore: () => void } {
  const proto = RethinkConnection.prototype as unknown as { write: (q: unknown, what: string) => Promise<unknown> }
  const original = proto.write
  const counts = new Map<string, number>()
  proto.write = function (this: unknown, q: unknown, what: string) {
    const kind = what.replace(/\d+/g, 'N')
    counts.set(kind, (counts.get(kind) ?? 0) + 1)
    return original.call(this, q, what)
  }
  return { counts, restore: () => (proto.write = original) }
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore: groups sent at once (needs RETHINKDB_URL)', function () {
  this.timeout(30_000)
  let prefix = ''
  let a: RethinkStore
  let b: RethinkStore
  beforeEach(() => {
    prefix = freshPrefix()
    a = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    b = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
  })
  afterEach(async () => {
    await Promise.all([a.close(), b.close()])
    await dropTables(prefix)
  })

  it('should send a lone append in one query once the store knows its newest entry', async () => {
    await a.append('s1', [newEvent()], { expectedVersion: 0 })
    const queries = countQueries()
    try {
      await a.append('s1', [newEvent()], { expectedVersion: 1 })
      await a.append('s1', [newEvent()], { expectedVersion: 2 })
    } finally {
      queries.restore()
    }
    // Two appends, two queries: the head moves ride along or go alone, nothing else is written.
    expect(queries.counts.get('append to N stream(s)')).to.equal(2)
    expect(queries.counts.get('claim event ids')).to.equal(undefined)
    expect(queries.counts.get('open a log entry')).to.equal(undefined)
    expect((await collect(a.readStream('s1'))).map((e) => e.version)).to.deep.equal([1, 2, 3])
  })

  it('should go in steps when another process took the entry it guessed, and keep positions in order', async () => {
    const first = await a.append('s1', [newEvent()], { expectedVersion: 0 })
    const other = await b.append('s2', [newEvent()], { expectedVersion: 0 })
    const next = await a.append('s1', [newEvent()], { expectedVersion: 1 })
    expect(other.events[0]!.position).to.be.greaterThan(first.events[0]!.position)
    expect(next.events[0]!.position).to.be.greaterThan(other.events[0]!.position)
    expect(next.alreadyStored).to.equal(false)
    // Read where the last append was made: a store reads its own appends at once.
    const all = await collect(a.readAll())
    expect(all.map((e) => e.id)).to.deep.equal([first, other, next].map((r) => r.events[0]!.id))
  })

  it('should answer a retried batch as already stored when its ids are claimed (the group goes in steps)', async () => {
    await a.append('s1', [newEvent(), newEvent()], { expectedVersion: 0 })
    const batch = [newEvent()]
    const stored = await a.append('s1', batch, { expectedVersion: 2 })
    // The same batch again at the current version: the store tries it at once, meets its claims.
    const again = await a.append('s1', batch, { expectedVersion: 'any' })
    expect(again.alreadyStored).to.equal(true)
    expect(again.events.map((e) => [e.id, e.position])).to.deep.equal(stored.events.map((e) => [e.id, e.position]))
    expect(await a.streamVersion('s1')).to.equal(3)
  })

  it('should refuse at once a stale expected version it guessed a predecessor for', async () => {
    await a.append('s1', [newEvent()], { expectedVersion: 0 })
    await b.append('s1', [newEvent()], { expectedVersion: 1 })
    // `a` still remembers version 1 as the stream's last commit: its guess meets b's commit.
    const refused = await a.append('s1', [newEvent()], { expectedVersion: 1 }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(refused).to.have.property('code', 'CONCURRENCY')
    expect(await a.streamVersion('s1')).to.equal(2)
  })
})
