// Read-side figures on SqliteStore: a read model rebuilt over 1,000,000 events against a raw
// read + JSON.parse of the same rows; projection throughput against sequential Fire; live lag
// from a Fire's resolution to waitFor resolving, in one process and across two. The rebuild
// alternates with its baseline, 3 pairs, and reports the medians.
import Database from 'better-sqlite3'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { startWorker, waitUntil } from '../spec/support/processes.js'
import { Account, NOTE } from './Account.js'
import { Balances, Receipts } from './Balances.js'
import { pairedRates, percentile, perSecond, printTable, rate, tempDb, type Row } from './support.js'

const REBUILD_EVENTS = Number(process.env['READ_BENCH_EVENTS'] ?? 1_000_000)
const ACCOUNTS = 1_000
const PROJECTED = 20_000
const SEQUENTIAL = 2_000
const LAGS = 500

/** Fills a fresh store with `count` deposits over ACCOUNTS accounts, straight through SQL (set-up only). */
function fill(file: string, count: number): void {
  new SqliteStore({ file }).close().catch(() => undefined)
  const db = new Database(file)
  const insert = db.prepare('INSERT INTO events (id, stream_id, version, name, data, schema_version, at, meta) VALUES (?, ?, ?, ?, ?, 1, ?, ?)')
  const versions = new Array<number>(ACCOUNTS).fill(0)
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const account = i % ACCOUNTS
      insert.run(`e-${i}`, `account-${account}`, ++versions[account]!, 'deposited', JSON.stringify({ amount: i % 100, note: NOTE }), 1_700_000_000_000 + i, '{"actorType":"Account"}')
    }
  })()
  db.close()
}

/** The baseline: every row read in position order, its data and meta parsed. */
function rawRead(file: string): number {
  const db = new Database(file, { readonly: true })
  const page = db.prepare('SELECT position, id, stream_id, version, name, data, schema_version, at, meta FROM events WHERE position >= ? ORDER BY position LIMIT 4096').raw()
  let from = 1
  let sum = 0
  for (;;) {
    const rows = page.all(from) as Array<[number, string, string, number, string, string, number, number, string]>
    for (const row of rows) {
      sum += (JSON.parse(row[5]) as { amount: number }).amount
      JSON.parse(row[8])
    }
    if (rows.length < 4096) break
    from = rows[rows.length - 1]![0] + 1
  }
  db.close()
  return sum
}

let rebuilds = 0
async function rebuild(file: string): Promise<void> {
  const container = createContainer({ store: new SqliteStore({ file, durability: 'normal' }) })
  // A model of its own each run: every run builds from position 0.
  const balances = await new (class extends Balances {
    static override modelName = `balances-${++rebuilds}`
  })(container).start()
  await balances.waitFor(await container.store.headPosition())
  await balances.stop()
  await container.close()
}

async function projectionThroughput(): Promise<{ derived: number; fire: number }> {
  const db = tempDb('projection')
  fill(db.file, PROJECTED)
  const container = createContainer({ store: new SqliteStore({ file: db.file }) })
  const derived = await rate(PROJECTED, async () => {
    const receipts = await new Receipts(container).start()
    await receipts.waitFor(PROJECTED)
    await receipts.stop()
  })
  const account = await new Account('sequential', container).Load()
  const fire = await rate(SEQUENTIAL, async () => {
    for (let i = 0; i < SEQUENTIAL; i++) await account.Fire('deposited', { amount: i, note: NOTE })
  })
  await container.close()
  db.remove()
  return { derived, fire }
}

/** LAGS Fires, a short random pause apart: for each, the time from Fire resolving to waitFor resolving, unsorted. */
async function measureLag(account: Account, balances: Balances): Promise<number[]> {
  const lags: number[] = []
  for (let i = 0; i < LAGS; i++) {
    const envelope = await account.Fire('deposited', { amount: 1, note: NOTE })
    const fired = performance.now()
    await balances.waitFor(envelope)
    lags.push(performance.now() - fired)
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 2))
  }
  return lags
}

async function lagInProcess(): Promise<number[]> {
  const db = tempDb('lag')
  const container = createContainer({ store: new SqliteStore({ file: db.file }) })
  const balances = await new Balances(container).start()
  const account = await new Account('lag', container).Load()
  const lags = await measureLag(account, balances)
  await balances.stop()
  await container.close()
  db.remove()
  return lags.sort((a, b) => a - b)
}

async function lagAcrossProcesses(): Promise<number[]> {
  const db = tempDb('lag-processes')
  const runner = startWorker('../../../bench/workers/readRunner', [db.file])
  await waitUntil(() => runner.lines.includes('ready'), 30_000, 'the read model process')
  const container = createContainer({ store: new SqliteStore({ file: db.file }) })
  const balances = new Balances(container) // queries only: the other process applies the events
  const account = await new Account('lag', container).Load()
  const lags = await measureLag(account, balances)
  runner.kill('SIGKILL')
  await runner.exited
  await container.close()
  db.remove()
  return lags.sort((a, b) => a - b)
}

const ms = (n: number) => `${n.toFixed(2)} ms`

export async function benchRead(): Promise<void> {
  const db = tempDb('rebuild')
  fill(db.file, REBUILD_EVENTS)
  const { baseline: raw, measured: built, ratio } = await pairedRates(
    3,
    () => rate(REBUILD_EVENTS, () => void rawRead(db.file)),
    () => rate(REBUILD_EVENTS, () => rebuild(db.file)),
  )
  db.remove()
  const { derived, fire } = await projectionThroughput()
  const local = await lagInProcess()
  const cross = await lagAcrossProcesses()
  const rows: Row[] = [
    {
      what: `read model rebuild, ${REBUILD_EVENTS.toLocaleString('en-US')} events, ${ACCOUNTS} documents`,
      value: perSecond(built),
      baseline: `${perSecond(raw)} raw read + JSON.parse`,
      ratio: `${ratio.toFixed(2)}x`,
      goal: '>= 0.5x',
    },
    {
      what: `projection, ${PROJECTED.toLocaleString('en-US')} derived events stored`,
      value: perSecond(derived),
      baseline: `${perSecond(fire)} sequential Fire`,
      ratio: `${(derived / fire).toFixed(2)}x`,
      goal: '',
    },
    { what: 'live lag Fire -> waitFor, one process, p50', value: ms(percentile(local, 50)), baseline: '', ratio: '', goal: '' },
    { what: 'live lag Fire -> waitFor, one process, p99', value: ms(percentile(local, 99)), baseline: '', ratio: '', goal: 'p99 < 10 ms' },
    { what: 'live lag Fire -> waitFor, across processes, p50', value: ms(percentile(cross, 50)), baseline: `${ms(percentile(local, 50))} one process`, ratio: '', goal: '' },
    { what: 'live lag Fire -> waitFor, across processes, p99', value: ms(percentile(cross, 99)), baseline: `${ms(percentile(local, 99))} one process`, ratio: '', goal: 'p99 < 20 ms' },
  ]
  printTable(`Read side on SqliteStore (lag: ${LAGS} Fires, durability full)`, rows)
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRead()
