// PgStore figures against raw `pg` doing the same work on the same server, in the same run.
// Needs PG_URL (npm run bench starts a throwaway server through scripts/with-postgres.sh).
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { createContainer, type NewEvent } from 'omniscient-actors'
import { Account, NOTE } from './Account.js'
import { PgStore } from 'omniscient-actors/postgres'
import { pairedRates, percentile, perSecond, printTable, rate, type Row } from './support.js'

const SEQUENTIAL = 1_000
const ACTORS = Number(process.env['PG_BENCH_ACTORS'] ?? 200)
const PER_ACTOR = Math.max(1, Math.round(Number(process.env['PG_BENCH_FIRES'] ?? 10_000) / ACTORS))
// Group commit gains with the number of writers waiting at once: the same figure with more.
const MANY_ACTORS = 1_000
const PER_MANY = 20
const LOAD = 100_000
const PINGS = 500
let schemas = 0
const schemaName = () => `bench_${process.pid}_${++schemas}`

async function withRaw<T>(url: string, fn: (client: pg.Client, table: string) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const table = `raw_${process.pid}_${++schemas}`
  await client.query(`CREATE TABLE ${table} (position BIGSERIAL PRIMARY KEY, id TEXT UNIQUE, stream_id TEXT, version INT, name TEXT, data TEXT, schema_version INT, at BIGINT, meta TEXT, UNIQUE (stream_id, version))`)
  try {
    return await fn(client, table)
  } finally {
    await client.query(`DROP TABLE ${table}`) // bench clean-up only
    await client.end()
  }
}

const row = (i: number, stream: string, version: number) => [randomUUID(), stream, version, 'deposited', JSON.stringify({ amount: i, note: NOTE }), 1, Date.now(), '{"actorType":"Account"}']

async function rawSingle(url: string): Promise<number> {
  return withRaw(url, (c, t) =>
    rate(SEQUENTIAL, async () => {
      for (let i = 0; i < SEQUENTIAL; i++) await c.query(`INSERT INTO ${t} (id, stream_id, version, name, data, schema_version, at, meta) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, row(i, 's', i + 1))
    }),
  )
}

async function rawBulk(url: string): Promise<number> {
  return withRaw(url, (c, t) =>
    rate(20_000, async () => {
      for (let b = 0; b < 20; b++) {
        const values: unknown[] = []
        const tuples: string[] = []
        for (let i = 0; i < 1_000; i++) {
          const r = row(b * 1_000 + i, `s${b}`, i + 1)
          tuples.push(`(${r.map((_, k) => `$${values.length + k + 1}`).join(',')})`)
          values.push(...r)
        }
        await c.query(`INSERT INTO ${t} (id, stream_id, version, name, data, schema_version, at, meta) VALUES ${tuples.join(',')}`, values)
      }
    }),
  )
}

async function withStore<T>(url: string, fn: (store: PgStore) => Promise<T>): Promise<T> {
  const schema = schemaName()
  const store = new PgStore({ connectionString: url, schema })
  try {
    return await fn(store)
  } finally {
    await store.close()
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    await c.query(`DROP SCHEMA "${schema}" CASCADE`) // bench clean-up only
    await c.end()
  }
}

async function fireSequential(url: string): Promise<number> {
  return withStore(url, async (store) => {
    const a = await new Account('a', createContainer({ store })).Load()
    return rate(SEQUENTIAL, async () => {
      for (let i = 0; i < SEQUENTIAL; i++) await a.Fire('deposited', { amount: i, note: NOTE })
    })
  })
}

async function fireConcurrent(url: string, actors: number, perActor: number): Promise<number> {
  return withStore(url, async (store) => {
    const container = createContainer({ store })
    const accounts = await Promise.all(Array.from({ length: actors }, (_, i) => new Account(`a${i}`, container).Load()))
    return rate(actors * perActor, async () => {
      await Promise.all(accounts.map(async (a) => {
        for (let i = 0; i < perActor; i++) await a.Fire('deposited', { amount: i, note: NOTE })
      }))
    })
  })
}

async function load(url: string): Promise<{ load: number; raw: number; ratio: number }> {
  return withStore(url, async (store) => {
    for (let v = 0; v < LOAD; v += 2_000) {
      const events = Array.from({ length: 2_000 }, (_, i): NewEvent => ({ id: `l${v + i}`, name: 'deposited', data: { amount: 1, note: NOTE }, schemaVersion: 1, at: 0, meta: { actorType: 'Account' } }))
      await store.append('big', events, { expectedVersion: v })
    }
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    // Statistics as autovacuum would soon have them, so both readers get the plan they would
    // get in a running system, whichever runs first.
    await c.query(`ANALYZE "${store.schema}".events`)
    const container = createContainer({ store })
    const ours = () => rate(LOAD, async () => void (await new Account('big', container).Load()))
    // The same rows and columns, in keyset pages; only the data is parsed.
    const raw = () =>
      rate(LOAD, async () => {
        let sum = 0
        for (let from = 1; ; from += 2_000) {
          const r = await c.query<{ data: string }>(
            `SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM "${store.schema}".events WHERE stream_id = 'big' AND version >= $1 ORDER BY version LIMIT 2000`,
            [from],
          )
          for (const x of r.rows) sum += (JSON.parse(x.data) as { amount: number }).amount
          if (r.rows.length < 2_000) break
        }
        if (sum !== LOAD) throw new Error('raw read lost rows')
      })
    const rates = await pairedRates(3, raw, ours)
    await c.end()
    return { load: rates.measured, raw: rates.baseline, ratio: rates.ratio }
  })
}

// The commit happens between the append's call and its resolution; the client cannot see
// the instant. Delivery is timed from both ends: from the call (an upper bound, which also
// holds the durable commit itself) and from the resolution (a lower bound, 0 when the handler
// ran first).
async function latency(url: string): Promise<{ fromCall: number[]; fromResolved: number[]; notify: number[] }> {
  const { fromCall, fromResolved } = await withStore(url, async (writer) => {
    const reader = new PgStore({ connectionString: url, schema: writer.schema })
    const called: number[] = []
    const resolved: number[] = []
    const handled: number[] = []
    const sub = reader.subscribe({ streamId: 'ping' }, (e) => void (handled[(e.data as { i: number }).i] = performance.now()))
    await new Promise((r) => setTimeout(r, 200))
    for (let i = 0; i < PINGS; i++) {
      called[i] = performance.now()
      await writer.append('ping', [{ id: `p${i}`, name: 'ping', data: { i }, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: i })
      resolved[i] = performance.now()
      await new Promise((r) => setTimeout(r, 2))
    }
    while (handled.filter((t) => t !== undefined).length < PINGS) await new Promise((r) => setTimeout(r, 5))
    await sub.close()
    await reader.close()
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b)
    return {
      fromCall: sorted(handled.map((t, i) => t - called[i]!)),
      fromResolved: sorted(handled.map((t, i) => Math.max(0, t - resolved[i]!))),
    }
  })
  // Raw NOTIFY one-way: the floor LISTEN/NOTIFY sets.
  const listener = new pg.Client({ connectionString: url })
  const sender = new pg.Client({ connectionString: url })
  await Promise.all([listener.connect(), sender.connect()])
  await listener.query('LISTEN bench_ping')
  const sent: number[] = []
  const notify: number[] = []
  listener.on('notification', (n) => void notify.push(performance.now() - sent[Number(n.payload)]!))
  for (let i = 0; i < PINGS; i++) {
    sent[i] = performance.now()
    await sender.query(`NOTIFY bench_ping, '${i}'`)
    await new Promise((r) => setTimeout(r, 2))
  }
  while (notify.length < PINGS) await new Promise((r) => setTimeout(r, 5))
  await Promise.all([listener.end(), sender.end()])
  return { fromCall, fromResolved, notify: notify.sort((a, b) => a - b) }
}

export async function benchPg(): Promise<void> {
  const url = process.env['PG_URL']
  if (!url) {
    console.log('\nPgStore: skipped (no PG_URL; `npm run bench` starts a server when PostgreSQL is installed)')
    return
  }
  // Each Fire figure alternates with raw single inserts (3 pairs), so drift moves both alike.
  const sequential = await pairedRates(3, () => rawSingle(url), () => fireSequential(url))
  const concurrent = await pairedRates(3, () => rawSingle(url), () => fireConcurrent(url, ACTORS, PER_ACTOR))
  const many = await pairedRates(3, () => rawSingle(url), () => fireConcurrent(url, MANY_ACTORS, PER_MANY))
  const bulk = await rawBulk(url)
  const { load: loadRate, raw, ratio: loadRatio } = await load(url)
  const seq = sequential.measured
  const conc = concurrent.measured
  const { fromCall, fromResolved, notify } = await latency(url)
  const ms = (n: number) => `${n.toFixed(2)} ms`
  const rows: Row[] = [
    { what: `sequential durable Fire (${SEQUENTIAL})`, value: perSecond(seq), baseline: `${perSecond(sequential.baseline)} raw INSERT txns`, ratio: `${sequential.ratio.toFixed(2)}x`, goal: '' },
    { what: `concurrent durable Fire, ${ACTORS} actors x ${PER_ACTOR}`, value: perSecond(conc), baseline: `${perSecond(concurrent.baseline)} raw INSERT txns`, ratio: `${concurrent.ratio.toFixed(1)}x`, goal: '>= 10x single inserts' },
    { what: '  the same, against raw 1000-row INSERTs', value: perSecond(conc), baseline: `${perSecond(bulk)} raw rows`, ratio: `${(conc / bulk).toFixed(2)}x`, goal: '(for reference)' },
    { what: `concurrent durable Fire, ${MANY_ACTORS} actors x ${PER_MANY}`, value: perSecond(many.measured), baseline: `${perSecond(many.baseline)} raw INSERT txns`, ratio: `${many.ratio.toFixed(1)}x`, goal: '>= 10x single inserts' },
    { what: '  the same, against raw 1000-row INSERTs', value: perSecond(many.measured), baseline: `${perSecond(bulk)} raw rows`, ratio: `${(many.measured / bulk).toFixed(2)}x`, goal: '(for reference)' },
    { what: `Load of a ${LOAD.toLocaleString('en-US')}-event stream`, value: perSecond(loadRate), baseline: `${perSecond(raw)} raw read+parse`, ratio: `${loadRatio.toFixed(2)}x`, goal: '' },
    { what: 'live delivery from the append call, p50', value: ms(percentile(fromCall, 50)), baseline: `${ms(percentile(notify, 50))} raw NOTIFY`, ratio: `${(percentile(fromCall, 50) / percentile(notify, 50)).toFixed(1)}x`, goal: '' },
    { what: 'live delivery from the append call, p99', value: ms(percentile(fromCall, 99)), baseline: `${ms(percentile(notify, 99))} raw NOTIFY`, ratio: `${(percentile(fromCall, 99) / percentile(notify, 99)).toFixed(1)}x`, goal: 'p99 < 5 ms (commit to handler)' },
    { what: '  from the append resolved, p99', value: ms(percentile(fromResolved, 99)), baseline: `${ms(percentile(notify, 99))} raw NOTIFY`, ratio: `${(percentile(fromResolved, 99) / percentile(notify, 99)).toFixed(1)}x`, goal: '(the commit lies between)' },
  ]
  printTable('PgStore on a local PostgreSQL 15 (synchronous_commit on; Fire and Load medians of 3 runs paired with their baseline)', rows)
}
