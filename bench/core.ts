// Core figures on SQLite: durable Fire (sequential and concurrent) and Load, each beside raw
// better-sqlite3 doing the same inserts and reads at the same durability, in the same run.
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { createContainer, SqliteStore, type NewEvent } from 'omniscient-actors'
import { Account, NOTE } from './Account.js'
import { medianRate, pairedRates, perSecond, printTable, rate, tempDb, type Row } from './support.js'

const SEQUENTIAL = 2_000
const ACTORS = 200
const FIRES_PER_ACTOR = 20
const LOAD_EVENTS = 100_000
const RUNS = 7

/** The raw baseline: the same row (a random UUID id, as Fire makes), through the same schema, one autocommit INSERT at a time. */
function rawDatabase(file: string): { db: Database.Database; insert: (i: number, stream: string) => void; checkedInsert: (i: number, stream: string) => void } {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    version INTEGER NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, schema_version INTEGER NOT NULL,
    at INTEGER NOT NULL, meta TEXT NOT NULL, UNIQUE (stream_id, version))`)
  const stmt = db.prepare('INSERT INTO events (id, stream_id, version, name, data, schema_version, at, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  const versions = new Map<string, number>()
  const insert = (i: number, stream: string) => {
    const version = (versions.get(stream) ?? 0) + 1
    versions.set(stream, version)
    stmt.run(randomUUID(), stream, version, 'deposited', JSON.stringify({ amount: i, note: NOTE }), 1, Date.now(), '{"actorType":"Account"}')
  }
  // What a hand-written event store must do at least: check the stream's version and insert,
  // in one IMMEDIATE transaction so that other processes cannot slip in between.
  const current = db.prepare<[string], { v: number | null }>('SELECT max(version) AS v FROM events WHERE stream_id = ?')
  const checked = db.transaction((i: number, stream: string) => {
    if ((current.get(stream)?.v ?? 0) !== (versions.get(stream) ?? 0)) throw new Error('conflict')
    insert(i, stream)
  })
  return { db, insert, checkedInsert: (i, stream) => checked.immediate(i, stream) }
}

async function rawSequential(checked: boolean): Promise<number> {
  const tmp = tempDb('raw-seq')
  const { db, insert, checkedInsert } = rawDatabase(tmp.file)
  const write = checked ? checkedInsert : insert
  const r = await rate(SEQUENTIAL, () => {
    for (let i = 0; i < SEQUENTIAL; i++) write(i, 'acct')
  })
  db.close()
  tmp.remove()
  return r
}

async function rawGrouped(): Promise<number> {
  const tmp = tempDb('raw-grouped')
  const { db, insert } = rawDatabase(tmp.file)
  // The best a hand-written writer could do: one transaction per round of one event per actor.
  const round = db.transaction((r: number) => {
    for (let a = 0; a < ACTORS; a++) insert(r * ACTORS + a, `acct-${a}`)
  })
  const r = await rate(ACTORS * FIRES_PER_ACTOR, () => {
    for (let i = 0; i < FIRES_PER_ACTOR; i++) round(i)
  })
  db.close()
  tmp.remove()
  return r
}

async function fireSequential(): Promise<number> {
  const tmp = tempDb('fire-seq')
  const store = new SqliteStore({ file: tmp.file })
  const account = await new Account('acct', createContainer({ store })).Load()
  const r = await rate(SEQUENTIAL, async () => {
    for (let i = 0; i < SEQUENTIAL; i++) await account.Fire('deposited', { amount: i, note: NOTE })
  })
  await store.close()
  tmp.remove()
  return r
}

async function fireConcurrent(): Promise<number> {
  const tmp = tempDb('fire-conc')
  const store = new SqliteStore({ file: tmp.file })
  const container = createContainer({ store })
  const accounts = await Promise.all(Array.from({ length: ACTORS }, (_, a) => new Account(`acct-${a}`, container).Load()))
  const r = await rate(ACTORS * FIRES_PER_ACTOR, async () => {
    await Promise.all(
      accounts.map(async (account) => {
        for (let i = 0; i < FIRES_PER_ACTOR; i++) await account.Fire('deposited', { amount: i, note: NOTE })
      }),
    )
  })
  await store.close()
  tmp.remove()
  return r
}

async function loadRates(): Promise<{ load: number; raw: number; ratio: number }> {
  const tmp = tempDb('load')
  const store = new SqliteStore({ file: tmp.file, durability: 'normal' })
  const batch = 1_000
  for (let v = 0; v < LOAD_EVENTS; v += batch) {
    const events = Array.from({ length: batch }, (_, i): NewEvent => ({
      id: `load-${v + i}`,
      name: 'deposited',
      data: { amount: 1, note: NOTE },
      schemaVersion: 1,
      at: Date.now(),
      meta: { actorType: 'Account' },
    }))
    await store.append('big', events, { expectedVersion: v })
  }
  const container = createContainer({ store })
  const db = new Database(tmp.file, { readonly: true })
  const stmt = db.prepare('SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM events WHERE stream_id = ? ORDER BY version')
  const rawRead = () =>
    rate(LOAD_EVENTS, () => {
      let sum = 0
      for (const row of stmt.iterate('big') as Iterable<{ data: string }>) sum += (JSON.parse(row.data) as { amount: number }).amount
      if (sum !== LOAD_EVENTS) throw new Error('raw read lost rows')
    })
  const load = () => rate(LOAD_EVENTS, async () => void (await new Account('big', container).Load()))
  const rates = await pairedRates(RUNS, rawRead, load)
  db.close()
  await store.close()
  tmp.remove()
  return { load: rates.measured, raw: rates.baseline, ratio: rates.ratio }
}

export async function benchCore(): Promise<void> {
  // Each figure alternates with its baseline, so drift of the machine during the run moves both.
  const sequential = await pairedRates(RUNS, () => rawSequential(false), fireSequential)
  const rawChecked = await medianRate(3, () => rawSequential(true))
  const rawGroup = await medianRate(3, rawGrouped)
  const fireConc = await medianRate(3, fireConcurrent)
  const { load, raw, ratio: loadRatio } = await loadRates()
  const fireSeq = sequential.measured
  const rows: Row[] = [
    {
      what: `sequential durable Fire, 1 actor (${SEQUENTIAL} events)`,
      value: perSecond(fireSeq),
      baseline: `${perSecond(sequential.baseline)} raw INSERT`,
      ratio: `${sequential.ratio.toFixed(2)}x`,
      goal: '>= 0.70x raw',
    },
    {
      what: '  the same, against raw version-checked INSERT',
      value: perSecond(fireSeq),
      baseline: `${perSecond(rawChecked)} raw checked`,
      ratio: `${(fireSeq / rawChecked).toFixed(2)}x`,
      goal: '(for reference)',
    },
    {
      what: `concurrent durable Fire, ${ACTORS} actors x ${FIRES_PER_ACTOR}`,
      value: perSecond(fireConc),
      baseline: `${perSecond(fireSeq)} sequential Fire`,
      ratio: `${(fireConc / fireSeq).toFixed(2)}x`,
      goal: '>= 5x sequential Fire',
    },
    {
      what: '  the same, against raw grouped INSERTs',
      value: perSecond(fireConc),
      baseline: `${perSecond(rawGroup)} raw, ${ACTORS}/txn`,
      ratio: `${(fireConc / rawGroup).toFixed(2)}x`,
      goal: '(for reference)',
    },
    {
      what: `Load of a ${LOAD_EVENTS.toLocaleString('en-US')}-event stream`,
      value: perSecond(load),
      baseline: `${perSecond(raw)} raw read+parse`,
      ratio: `${loadRatio.toFixed(2)}x`,
      goal: '>= 250,000/s',
    },
  ]
  printTable(`Core on SqliteStore (durability full unless said; medians of ${RUNS} runs, ratios of runs paired with their baseline)`, rows)
}
