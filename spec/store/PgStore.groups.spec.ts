import { expect } from 'chai'
import { StorageError } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL, sql } from '../support/postgres.js'
import { collect, newEvent } from './conformance.js'

const url = PG_URL

// A group commit is one statement on the server, so anything the server refuses in one append
// fails the statement. The argument checks stop what they can foresee; this is for the rest
// (here a CHECK constraint stands in for it): the other appends of the group must still land.
;(url ? describe : describe.skip)('PgStore group commit with an append the server refuses', function () {
  this.timeout(30_000)
  let schema = ''
  let store: PgStore
  beforeEach(async () => {
    schema = freshSchema()
    store = new PgStore({ connectionString: url!, schema })
    await store.streamVersion('warm-up') // creates the schema
    await sql(`ALTER TABLE "${schema}".events ADD CONSTRAINT refuse_poison CHECK (name <> 'poison')`)
  })
  afterEach(async () => {
    await store.close()
    await dropSchema(schema)
  })

  for (const shape of ['distinct streams', 'a stream appended twice']) {
    it(`should store the good appends of a group on ${shape} and refuse only the bad one`, async () => {
      const streams = shape === 'distinct streams' ? ['a', 'b', 'c', 'd'] : ['a', 'a', 'c', 'd']
      const sent = streams.map((stream, i) => ({ stream, events: [newEvent(i === 2 ? 'poison' : 'fine'), newEvent()] }))
      const outcomes = await Promise.allSettled(sent.map((s) => store.append(s.stream, s.events, { expectedVersion: 'any' })))
      expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled'])
      const refused = (outcomes[2] as PromiseRejectedResult).reason as unknown
      expect(refused).to.be.instanceOf(StorageError).and.to.have.property('code', 'STORAGE')
      expect((refused as Error).message).to.include('refuse_poison')
      const stored = await collect(store.readAll())
      const expected = sent.filter((_, i) => i !== 2).flatMap((s) => s.events.map((e) => e.id))
      expect(stored.map((e) => e.id).sort()).to.deep.equal(expected.sort())
    })
  }
})
