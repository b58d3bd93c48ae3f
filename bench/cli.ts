// The CLI's export and import of a whole log (1,000,000 events by default; CLI_BENCH_EVENTS
// changes it), each beside the same engine doing the same work raw, in the same run:
// - export (exportLog, what `omniscient export -o file` runs) against a raw read of the same
//   rows in position order;
// - import (importLog, what `omniscient import` runs) into a fresh store against a raw
//   batched insert of the same rows (1,000 per transaction or statement).
// SQLite always; PostgreSQL when PG_URL is set (npm run bench sets it).
import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs'
import { finished } from 'node:stream/promises'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import pg from 'pg'
import { SqliteStore, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { exportLog, streamSink } from '../cli/exportLog.js'
import { importLog } from '../cli/importLog.js'
import { NOTE } from './Account.js'
import { perSecond, printTable, rate, tempDb, type Row } from './support.js'

const EVENTS = Number(process.env['CLI_BENCH_EVENTS'] ?? 1_000_000)
const STREAMS = Math.max(1, Math.round(EVENTS / 100))
// Each stream's events come in bursts of this many (an actor firing a few events at a time),
// so the log interleaves streams as a real one does, and import batches are this long.
const BURST = 10
const RAW_BATCH = 1_000

type RowTuple = [id: string, stream: string, version: number, name: string, data: string, schemaVersion: number, at: number, meta: string]

/** The log's rows in commit order: bursts of BURST events per stream, streams round-robin. */
function* rows(): Generator<RowTuple> {
  const versions = new Array<number>(STREAMS).fill(0)
  const at = Date.UTC(2026, 0, 1)
  for (let i = 0, s = 0; i < EVENTS; s = (s + 1) % STREAMS) {
    for (let k = 0; k < BURST && i < EVENTS; k++, i++) {
      const version = ++versions[s]!
      yield [randomUUID(), `account-${s}`, version, 'deposited', JSON.stringify({ amount: i, note: NOTE }), 1, at + i, '{"actorType":"Account"}']
    }
  }
}

function* chunks<T>(all: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = []
  for (const item of all) {
    chunk.push(item)
    if (chunk.length === size) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}

async function exportTo(store: StorageAdapter, file: string): Promise<number> {
  const out = createWriteStream(file)
  const count = await exportLog(store, {}, streamSink(out))
  out.end()
  await finished(out)
  return count
}

async function importFrom(store: StorageAdapter, file: string): Promise<number> {
  const report = await importLog(store, createInterface({ input: createReadStream(file, { highWaterMark: 1 << 20 }), crlfDelay: Infinity }))
  return report.stored
}

function check(what: string, expected: number, actual: number): void {
  if (actual !== expected) throw new Error(`${what}: ${actual} events instead of ${expected}`)
}

/** Exports `source` to `file`, then imports the file into a fresh store; closes both. */
async function exportThenImport(source: StorageAdapter, fresh: () => StorageAdapter, file: string): Promise<{ exportRate: number; importRate: number }> {
  let exported = 0
  const exportRate = await rate(EVENTS, async () => void (exported = await exportTo(source, file)))
  await source.close()
  check('export', EVENTS, exported)
  const target = fresh()
  let imported = 0
  const importRate = await rate(EVENTS, async () => void (imported = await importFrom(target, file)))
  await target.close()
  check('import', EVENTS, imported)
  return { exportRate, importRate }
}

async function benchSqlite(): Promise<Row[]> {
  const source = tempDb('cli-source')
  const target = tempDb('cli-target')
  const file = `${source.file}.ndjson`
  try {
    // The source store's own schema, filled raw: that fill is the insert baseline.
    await new SqliteStore({ file: source.file }).close()
    const db = new Database(source.file)
    db.pragma('synchronous = FULL')
    const insert = db.prepare('INSERT INTO events (id, stream_id, version, name, data, schema_version, at, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    const insertMany = db.transaction((batch: RowTuple[]) => {
      for (const r of batch) insert.run(...r)
    })
    const rawInsert = await rate(EVENTS, () => {
      for (const batch of chunks(rows(), RAW_BATCH)) insertMany(batch)
    })
    const select = db.prepare('SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM events ORDER BY position').raw()
    let seen = 0
    const rawRead = await rate(EVENTS, () => {
      for (const row of select.iterate()) seen += (row as unknown[]).length > 0 ? 1 : 0
    })
    check('raw read', EVENTS, seen)
    db.close()

    const { exportRate, importRate } = await exportThenImport(new SqliteStore({ file: source.file }), () => new SqliteStore({ file: target.file }), file)
    const size = statSync(file).size
    const n = EVENTS.toLocaleString('en-US')
    return [
      { what: `export ${n} events to ndjson (${Math.round(size / 1e6)} MB)`, value: perSecond(exportRate), baseline: `${perSecond(rawRead)} raw SELECT`, ratio: `${(exportRate / rawRead).toFixed(2)}x`, goal: '(reference)' },
      { what: `import them into a fresh store`, value: perSecond(importRate), baseline: `${perSecond(rawInsert)} raw INSERT x${RAW_BATCH}`, ratio: `${(importRate / rawInsert).toFixed(2)}x`, goal: '(reference)' },
    ]
  } finally {
    rmSync(file, { force: true })
    source.remove()
    target.remove()
  }
}

async function benchPg(url: string): Promise<Row[]> {
  const tag = `${process.pid}_${Date.now() % 100_000}`
  const [sourceSchema, targetSchema] = [`bench_cli_src_${tag}`, `bench_cli_dst_${tag}`]
  const tmp = tempDb('cli-pg')
  const file = `${tmp.file}.ndjson`
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    // PgStore migrates on first use: make it so before filling its table raw.
    const created = new PgStore({ connectionString: url, schema: sourceSchema })
    await created.headPosition()
    await created.close()
    const rawInsert = await rate(EVENTS, async () => {
      for (const batch of chunks(rows(), RAW_BATCH)) {
        const values: unknown[] = []
        const tuples = batch.map((r) => `(${r.map((v) => (values.push(v), `$${values.length}`)).join(',')})`)
        await client.query(`INSERT INTO "${sourceSchema}".events (id, stream_id, version, name, data, schema_version, at, meta) VALUES ${tuples.join(',')}`, values)
      }
    })
    let seen = 0
    const rawRead = await rate(EVENTS, async () => {
      // Keyset pages, as PgStore reads (no cursor held open).
      for (let from = 0; ; ) {
        const page = await client.query<{ position: string }>({ text: `SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM "${sourceSchema}".events WHERE position > $1 ORDER BY position LIMIT 2000`, values: [from] })
        seen += page.rows.length
        if (page.rows.length < 2000) break
        from = Number(page.rows.at(-1)!.position)
      }
    })
    check('raw read', EVENTS, seen)
    const { exportRate, importRate } = await exportThenImport(new PgStore({ connectionString: url, schema: sourceSchema }), () => new PgStore({ connectionString: url, schema: targetSchema }), file)
    const n = EVENTS.toLocaleString('en-US')
    return [
      { what: `export ${n} events to ndjson`, value: perSecond(exportRate), baseline: `${perSecond(rawRead)} raw SELECT pages`, ratio: `${(exportRate / rawRead).toFixed(2)}x`, goal: '(reference)' },
      { what: `import them into a fresh schema`, value: perSecond(importRate), baseline: `${perSecond(rawInsert)} raw INSERT x${RAW_BATCH}`, ratio: `${(importRate / rawInsert).toFixed(2)}x`, goal: '(reference)' },
    ]
  } finally {
    // Bench clean-up only.
    for (const schema of [sourceSchema, targetSchema]) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await client.end()
    rmSync(file, { force: true })
    tmp.remove()
  }
}

export async function benchCli(): Promise<void> {
  printTable(`CLI export and import on SQLite (${STREAMS.toLocaleString('en-US')} streams, bursts of ${BURST})`, await benchSqlite())
  const url = process.env['PG_URL']
  if (url) printTable('CLI export and import on PostgreSQL', await benchPg(url))
}

// Run on its own: CLI_BENCH_EVENTS=100000 npx tsx bench/cli.ts
if (import.meta.url === `file://${process.argv[1]}`) await benchCli()
