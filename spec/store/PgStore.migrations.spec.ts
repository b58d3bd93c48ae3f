import { expect } from 'chai'
import pg from 'pg'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL, sql } from '../support/postgres.js'
import { collect, newEvent } from './conformance.js'

async function rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    return (await client.query(text, params)).rows as T[]
  } finally {
    await client.end()
  }
}

const collations = (schema: string) =>
  rows<{ column_name: string; collation_name: string | null }>(
    `SELECT column_name, collation_name FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = 'events' AND column_name IN ('id', 'stream_id') ORDER BY column_name`,
    [schema],
  )

;(PG_URL ? describe : describe.skip)('PgStore migrations', () => {
  let schema = ''
  afterEach(async () => dropSchema(schema))

  it('should bring a schema of the first release up to date, keeping its events and going on appending', async () => {
    schema = freshSchema()
    const first = new PgStore({ connectionString: PG_URL!, schema })
    const before = await first.append('s1', [newEvent(), newEvent()], { expectedVersion: 0 })
    await first.close()
    // Back to what the first release left: ids and stream ids under the database's collation.
    await sql(`ALTER TABLE "${schema}".events ALTER COLUMN id TYPE TEXT COLLATE "default", ALTER COLUMN stream_id TYPE TEXT COLLATE "default"`)
    await sql(`DELETE FROM "${schema}".schema_migrations WHERE version > 1`)
    expect((await collations(schema)).map((c) => c.collation_name)).to.deep.equal([null, null])

    const upgraded = new PgStore({ connectionString: PG_URL!, schema })
    try {
      expect(await collect(upgraded.readStream('s1'))).to.deep.equal(before.events)
      const next = await upgraded.append('s1', [newEvent()], { expectedVersion: 2 })
      expect(next.events[0]!.version).to.equal(3)
      expect(await collations(schema)).to.deep.equal([
        { column_name: 'id', collation_name: 'C' },
        { column_name: 'stream_id', collation_name: 'C' },
      ])
      const done = await rows<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)
      expect(done.map((r) => r.version)).to.deep.equal([1, 2, 3])
    } finally {
      await upgraded.close()
    }
  })
})
