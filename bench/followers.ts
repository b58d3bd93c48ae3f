// Idle followers: one process holds N LiveActors on distinct streams while another fires 100
// events per second at them. What the holding process pays for following: its CPU over the
// firing window, the delivery time from the append's resolution (in the firing process) to
// the actor's handler, and its heap per loaded actor. On SQLite and, given PG_URL, PostgreSQL.
import { join } from 'node:path'
import pg from 'pg'
import { startTogether, startWorker, waitUntil } from '../spec/support/processes.js'
import { tempDir } from '../spec/support/tmp.js'
import { percentile, printTable, type Row } from './support.js'

const SIZES = (process.env['FOLLOWERS_BENCH_SIZES'] ?? '10,1000,10000').split(',').map(Number)
const PER_SECOND = 100
const SECONDS = Number(process.env['FOLLOWERS_BENCH_SECONDS'] ?? 10)

interface Figures {
  readonly cpu: number
  readonly p50: number
  readonly p99: number
  readonly delivered: number
  readonly heapPerActor: number
}

async function run(target: string, dir: string, followers: number): Promise<Figures> {
  const total = PER_SECOND * SECONDS
  const label = `${target.slice(0, target.indexOf(':'))}-${followers}`
  const go = join(dir, `go-${label}`)
  const stop = join(dir, `stop-${label}`)
  const holder = startWorker('../../../bench/workers/idleHolder', [target, String(followers), go, stop, String(total)])
  await waitUntil(() => holder.lines.includes('ready'), 300_000, `${followers} followers to load`)
  const firer = startWorker('../../../bench/workers/paceFirer', [target, String(followers), String(total), String(PER_SECOND), go, stop])
  await startTogether([firer], go)
  await Promise.all([holder.exited, firer.exited])
  const committed = JSON.parse(firer.lines.find((l) => l.startsWith('['))!) as number[]
  const held = JSON.parse(holder.lines.find((l) => l.startsWith('{'))!) as { cpuMs: number; windowMs: number; received: Array<number | null> }
  const heapPerActor = Number(holder.lines.find((l) => l.startsWith('heap '))!.slice(5))
  // Undelivered events count as never arriving: they sort last.
  const lags = committed.map((t, i) => (held.received[i] == null ? Infinity : Math.max(0, held.received[i] - t))).sort((a, b) => a - b)
  return {
    cpu: held.cpuMs / held.windowMs,
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    delivered: lags.filter((l) => l !== Infinity).length / total,
    heapPerActor,
  }
}

const pct = (n: number) => `${(n * 100).toFixed(1)}%`
const ms = (n: number) => (n === Infinity ? 'lost' : `${n.toFixed(2)} ms`)

function table(engine: string, goalMs: number, figures: ReadonlyArray<{ followers: number; f: Figures }>): void {
  const base = figures[0]!
  const rows: Row[] = figures.flatMap(({ followers, f }) => {
    const n = followers.toLocaleString('en-US')
    const delivered = f.delivered < 1 ? ` (${pct(f.delivered)} delivered)` : ''
    return [
      { what: `${n} idle followers: CPU of the holding process`, value: pct(f.cpu), baseline: `${pct(base.f.cpu)} with ${base.followers}`, ratio: `${(f.cpu / base.f.cpu).toFixed(2)}x`, goal: followers === base.followers ? '' : '<= 2x' },
      { what: `  delivery p50${delivered}`, value: ms(f.p50), baseline: '', ratio: '', goal: '' },
      { what: '  delivery p99', value: ms(f.p99), baseline: '', ratio: '', goal: `< ${goalMs} ms` },
      { what: '  heap per loaded LiveActor', value: `${Math.round(f.heapPerActor).toLocaleString('en-US')} B`, baseline: '', ratio: '', goal: '' },
    ]
  })
  printTable(`Idle LiveActors on ${engine}: one process holds them, another fires ${PER_SECOND} events/s at them for ${SECONDS} s`, rows)
}

export async function benchFollowers(): Promise<void> {
  const tmp = tempDir('omniscient-bench-')
  try {
    const sqlite: Array<{ followers: number; f: Figures }> = []
    for (const followers of SIZES) sqlite.push({ followers, f: await run(`sqlite:${join(tmp.dir, `followers-${followers}.db`)}`, tmp.dir, followers) })
    table('SqliteStore', 10, sqlite)
    const url = process.env['PG_URL']
    if (!url) {
      console.log('\nIdle LiveActors on PgStore: skipped (no PG_URL)')
      return
    }
    const onPg: Array<{ followers: number; f: Figures }> = []
    for (const followers of SIZES) {
      const schema = `bench_followers_${process.pid}_${followers}`
      try {
        onPg.push({ followers, f: await run(`pg:${schema}`, tmp.dir, followers) })
      } finally {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) // bench clean-up only
        await c.end()
      }
    }
    table('PgStore', 20, onPg)
  } finally {
    tmp.remove()
  }
}

// `tsx bench/followers.ts` runs this section alone.
if (import.meta.url === `file://${process.argv[1]}`) await benchFollowers()
