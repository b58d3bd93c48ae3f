// RethinkStore figures against raw rethinkdb-ts inserts on the same server, in the same run.
// Needs RETHINKDB_URL (no server is installable here: see docs/adapters.md). Alone:
// RETHINKDB_URL=... npx tsx --conditions=omniscient-source bench/rethink.ts
import { r, type Connection, type RDatum } from 'rethinkdb-ts'
import { createContainer } from 'omniscient-actors'
import { Account, NOTE } from './Account.js'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { pairedRates, perSecond, printTable, rate, type Row } from './support.js'

const SEQUENTIAL = 300
const ACTORS = 50
const PER_ACTOR = 10
const LOAD = 20_000
const RUNS = 3
let runs = 0
const prefix = () => `bench_${process.pid}_${++runs}_`

async function dropPrefix(url: URL, p: string): Promise<void> {
  const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
  await r.db('rethinkdb').table('table_config').filter({ db: url.pathname.slice(1) }).filter((t: RDatum) => t('name').match(`^${p}`).ne(null)).delete().run(c) // bench clean-up only
  await c.close()
}

/** One document per insert, durability hard: what a commit costs the server at the least. */
async function rawInserts(url: URL, concurrency: number, total: number): Promise<number> {
  const c: Connection = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
  const db = url.pathname.slice(1)
  const table = `${prefix()}raw`
  // The raw baseline may run before any store has created the database.
  await r.branch(r.dbList().contains(db), null, r.dbCreate(db)).run(c)
  await r.db(db).tableCreate(table).run(c)
  await r.db(db).table(table).wait().run(c)
  try {
    return await rate(total, async () => {
      await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
        for (let i = 0; i < total / concurrency; i++) {
          await r.db(db).table(table).insert({ id: [`s${w}`, i + 1], events: [{ amount: i, note: NOTE }] }, { durability: 'hard' }).run(c)
        }
      }))
    })
  } finally {
    await r.db(db).tableDrop(table).run(c) // bench clean-up only
    await c.close()
  }
}

async function withStore<T>(url: URL, fn: (store: RethinkStore) => Promise<T>): Promise<T> {
  const p = prefix()
  const store = new RethinkStore({ url: url.href, tablePrefix: p })
  try {
    return await fn(store)
  } finally {
    await store.close()
    await dropPrefix(url, p)
  }
}

export async function benchRethink(): Promise<void> {
  const raw = process.env['RETHINKDB_URL']
  if (!raw) {
    console.log('\nRethinkStore: skipped (no RETHINKDB_URL; see docs/adapters.md for running a server)')
    return
  }
  const url = new URL(raw)
  const fireSequential = () =>
    withStore(url, async (store) => {
      const a = await new Account('a', createContainer({ store })).Load()
      return rate(SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await a.Fire('deposited', { amount: i, note: NOTE })
      })
    })
  const fireConcurrent = () =>
    withStore(url, async (store) => {
      const container = createContainer({ store })
      const accounts = await Promise.all(Array.from({ length: ACTORS }, (_, i) => new Account(`a${i}`, container).Load()))
      return rate(ACTORS * PER_ACTOR, async () => {
        await Promise.all(accounts.map(async (a) => {
          for (let i = 0; i < PER_ACTOR; i++) await a.Fire('deposited', { amount: i, note: NOTE })
        }))
      })
    })
  // Alternating pairs (raw, store, raw, store...): a server whose speed drifts moves both alike.
  const seq = await pairedRates(RUNS, () => rawInserts(url, 1, SEQUENTIAL), fireSequential)
  const conc = await pairedRates(RUNS, () => rawInserts(url, ACTORS, ACTORS * PER_ACTOR), fireConcurrent)
  const loadRate = await withStore(url, async (store) => {
    for (let v = 0; v < LOAD; v += 1_000) {
      const events = Array.from({ length: 1_000 }, (_, i) => ({ id: `l${v + i}`, name: 'deposited', data: { amount: 1, note: NOTE }, schemaVersion: 1, at: 0, meta: {} }))
      await store.append('big', events, { expectedVersion: v })
    }
    const container = createContainer({ store })
    return rate(LOAD, async () => void (await new Account('big', container).Load()))
  })
  const rows: Row[] = [
    { what: `sequential durable Fire (${SEQUENTIAL})`, value: perSecond(seq.measured), baseline: `${perSecond(seq.baseline)} raw inserts`, ratio: `${seq.ratio.toFixed(2)}x`, goal: '>= 0.25x' },
    { what: `concurrent durable Fire, ${ACTORS} actors x ${PER_ACTOR}`, value: perSecond(conc.measured), baseline: `${perSecond(conc.baseline)} raw inserts, ${ACTORS} at once`, ratio: `${conc.ratio.toFixed(2)}x`, goal: '>= 0.5x' },
    { what: `Load of a ${LOAD.toLocaleString('en-US')}-event stream (1000 per commit)`, value: perSecond(loadRate), baseline: '', ratio: '', goal: '' },
  ]
  printTable('RethinkStore on a local RethinkDB 2.4.4 (durability hard)', rows)
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRethink()
