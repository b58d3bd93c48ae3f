// A read model rebuilt on PgStore against a raw keyset read + JSON.parse of the same rows on the
// same server, alternating, 3 pairs, medians. Needs PG_URL (npm run bench starts a throwaway
// server; alone: `bash scripts/with-postgres.sh npx tsx --conditions=omniscient-source bench/readPg.ts`).
import pg from 'pg'
import { createContainer, type NewEvent } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { NOTE } from './Account.js'
import { Balances } from './Balances.js'
import { pairedRates, perSecond, printTable, rate } from './support.js'

const EVENTS = Number(process.env['PG_READ_BENCH_EVENTS'] ?? 200_000)
const ACCOUNTS = 1_000
const PAGE = 4_096

/** Fills the store with EVENTS deposits over ACCOUNTS accounts, one append per account (set-up only). */
async function fill(store: PgStore): Promise<void> {
  const per = Math.ceil(EVENTS / ACCOUNTS)
  for (let a = 0; a < ACCOUNTS; a++) {
    const events = Array.from({ length: per }, (_, i): NewEvent => ({ id: `e-${a}-${i}`, name: 'deposited', data: { amount: i % 100, note: NOTE }, schemaVersion: 1, at: 0, meta: { actorType: 'Account' } }))
    await store.append(`account-${a}`, events, { expectedVersion: 0 })
  }
}

/** The baseline: every row read in position order, in keyset pages, its data and meta parsed. */
async function rawRead(client: pg.Client, schema: string): Promise<void> {
  for (let from = 1; ; ) {
    const { rows } = await client.query<{ position: string; data: string; meta: string }>(
      `SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM "${schema}".events WHERE position >= $1 ORDER BY position LIMIT ${PAGE}`,
      [from],
    )
    for (const row of rows) {
      JSON.parse(row.data)
      JSON.parse(row.meta)
    }
    if (rows.length < PAGE) return
    from = Number(rows.at(-1)!.position) + 1
  }
}

export async function benchReadPg(): Promise<void> {
  const url = process.env['PG_URL']
  if (!url) {
    console.log('\nRead side on PgStore: skipped (no PG_URL)')
    return
  }
  const schema = `bench_read_${process.pid}`
  const store = new PgStore({ connectionString: url, schema })
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await fill(store)
    await client.query(`ANALYZE "${schema}".events`)
    const total = await store.headPosition()
    const container = createContainer({ store })
    let runs = 0
    const { baseline, measured, ratio } = await pairedRates(
      3,
      () => rate(total, () => rawRead(client, schema)),
      () =>
        rate(total, async () => {
          // A model of its own each run: every run builds from position 0.
          const balances = await new (class extends Balances {
            static override modelName = `balances-${++runs}`
          })(container).start()
          await balances.waitFor(total)
          await balances.stop()
        }),
    )
    printTable('Read side on PgStore (medians of 3 runs paired with their baseline)', [
      { what: `read model rebuild, ${total.toLocaleString('en-US')} events, ${ACCOUNTS} documents`, value: perSecond(measured), baseline: `${perSecond(baseline)} raw keyset read + JSON.parse`, ratio: `${ratio.toFixed(2)}x`, goal: '' },
    ])
  } finally {
    await store.close()
    await client.query(`DROP SCHEMA "${schema}" CASCADE`) // bench clean-up only
    await client.end()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReadPg()
