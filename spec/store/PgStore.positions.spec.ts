import { expect } from 'chai'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { collect, newEvent } from './conformance.js'

const url = PG_URL
const WRITERS = 3
const STREAMS_PER_WRITER = 12
const APPENDS_PER_STREAM = 25
// Appends of one, two and three events in turn.
const sizeOf = (stream: number, append: number) => 1 + ((append + stream) % 3)

// Several stores (pools) append at once, in groups of every size, while a reader tails the
// log by position the way a subscription does. The groups of one store overlap on the server
// (one stores while the next is judged), so this is where a position committed late would
// show up: the tail would have moved past it, and the final read would hold a position the
// tail never saw.
;(url ? describe : describe.skip)('PgStore positions under concurrent writers', function () {
  this.timeout(60_000)
  let schema = ''
  afterEach(async () => dropSchema(schema))

  it('should make positions visible in increasing order, so a tail that never waits misses none', async () => {
    schema = freshSchema()
    const writers = Array.from({ length: WRITERS }, () => new PgStore({ connectionString: url!, schema }))
    const reader = new PgStore({ connectionString: url!, schema })
    let writing = true
    const tailed: number[] = []
    const tail = (async () => {
      let from = 1
      while (writing) {
        for await (const e of reader.readAll({ fromPosition: from })) {
          tailed.push(e.position)
          from = e.position + 1
        }
      }
      for await (const e of reader.readAll({ fromPosition: from })) tailed.push(e.position)
    })()
    const conflicts: unknown[] = []
    try {
      await Promise.all(
        writers.flatMap((store, w) => [
          // Each writer's own streams, versions expected: groups of many appends.
          ...Array.from({ length: STREAMS_PER_WRITER }, async (_, s) => {
            for (let v = 0; v < APPENDS_PER_STREAM; v++) {
              const size = sizeOf(s, v)
              await store.append(`w${w}-s${s}`, Array.from({ length: size }, newEvent), { expectedVersion: v === 0 ? 0 : 'any' })
            }
          }),
          // One stream all writers append to at once: conflicts across stores.
          (async () => {
            for (let v = 0; v < APPENDS_PER_STREAM; v++) {
              await store.append('shared', [newEvent()], { expectedVersion: 'any' }).catch((err: unknown) => conflicts.push(err))
            }
          })(),
        ]),
      )
    } finally {
      writing = false
      await tail
      await Promise.all([...writers, reader].map((s) => s.close()))
    }
    const check = new PgStore({ connectionString: url!, schema })
    const all = (await collect(check.readAll())).map((e) => e.position)
    await check.close()
    expect(conflicts, 'appends with expectedVersion any are never refused').to.deep.equal([])
    let written = APPENDS_PER_STREAM // the shared stream's, per writer
    for (let s = 0; s < STREAMS_PER_WRITER; s++) for (let v = 0; v < APPENDS_PER_STREAM; v++) written += sizeOf(s, v)
    expect(all.length).to.equal(WRITERS * written)
    expect(tailed, 'the tail saw every position, once, in order').to.deep.equal(all)
  })
})
