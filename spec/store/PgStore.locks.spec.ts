import { expect } from 'chai'
import pg from 'pg'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { newEvent } from './conformance.js'

// The append locks, as lib/store/postgres/schema.ts names them: one per schema (two-key form)
// and the database-wide key of the first releases, which their append functions take alone.
const SCHEMA_APPEND_LOCK = 0x6f6d6e6a
const DATABASE_APPEND_LOCK = 0x6f6d6e69

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([promise.then(() => true), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A transaction on its own connection holding one advisory lock until `release()`. */
async function holdLock(lockSql: string, params: unknown[]): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  await client.query('BEGIN')
  await client.query(lockSql, params)
  let released = false
  const release = async () => {
    if (released) return
    released = true
    await client.query('COMMIT')
    await client.end()
  }
  holders.push(release)
  return { release }
}

// Locks a failed spec still holds are released after it, so that its appends can finish.
let holders: Array<() => Promise<void>> = []

;(PG_URL ? describe : describe.skip)('PgStore append locks', function () {
  this.timeout(20_000)
  let schemas: string[] = []
  let stores: PgStore[] = []
  beforeEach(async () => {
    schemas = [freshSchema(), freshSchema()]
    stores = schemas.map((schema) => new PgStore({ connectionString: PG_URL!, schema }))
    // Migrated and warm before the locks are taken.
    await Promise.all(stores.map((store) => store.append('warm', [newEvent()], { expectedVersion: 0 })))
  })
  afterEach(async () => {
    await Promise.all(holders.map((release) => release()))
    holders = []
    await Promise.all(stores.map((store) => store.close()))
    await Promise.all(schemas.map(dropSchema))
  })

  it('should serialise the appends of one schema only: another schema appends meanwhile', async () => {
    const [a, b] = stores as [PgStore, PgStore]
    const held = await holdLock('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SCHEMA_APPEND_LOCK, schemas[0]])
    const waiting = a.append('s', [newEvent()], { expectedVersion: 0 })
    waiting.catch(() => undefined)
    expect(await settlesWithin(b.append('s', [newEvent()], { expectedVersion: 0 }), 5_000), 'the other schema appends').to.equal(true)
    expect(await settlesWithin(waiting, 300), 'this schema waits for its lock').to.equal(false)
    await held.release()
    expect((await waiting).events[0]!.version).to.equal(1)
  })

  it('should wait while an append function of an earlier release holds the database-wide lock', async () => {
    const held = await holdLock('SELECT pg_advisory_xact_lock($1)', [DATABASE_APPEND_LOCK])
    const waiting = stores.map((store) => store.append('s', [newEvent()], { expectedVersion: 0 }))
    for (const w of waiting) w.catch(() => undefined)
    expect(await settlesWithin(Promise.race(waiting), 300), 'no append commits alongside it').to.equal(false)
    await held.release()
    const done = await Promise.all(waiting)
    expect(done.map((r) => r.events[0]!.version)).to.deep.equal([1, 1])
  })
})
