// Sharded OneActors over 3 processes (ShardedJournal: 16 shards, lease 1 s, renewal 250 ms).
// For each size, every process activates a third of the actors (at most 10,000 stay resident),
// then the bench measures an idle window: store calls per second (every StorageAdapter call of
// the 3 processes; on PostgreSQL also the server's transactions), CPU, leadership changes and
// the balance of shards. With 10,000 actors it also times Fires from a process that does not
// lead the actor's shard (proposals), then kills one process (kill -9) and times how long until
// every shard it led has a new owner. On SQLite and, given PG_URL, PostgreSQL.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { startWorker, waitUntil } from '../spec/support/processes.js'
import { firstLedAfter, ledBy } from '../spec/support/shardHosts.js'
import { ShardedJournal } from '../spec/support/ShardedJournal.js'
import { tempDir } from '../spec/support/tmp.js'
import { percentile, printTable, type Row } from './support.js'

const SIZES = (process.env['SHARDS_BENCH_SIZES'] ?? '10,100,10000,100000').split(',').map(Number)
const IDLE_MS = Number(process.env['SHARDS_BENCH_IDLE_MS'] ?? 10_000)
const FIRES = 500
const LATENCY_AT = 10_000

interface Figures {
  readonly actors: number
  readonly opsPerSecond: number
  readonly serverTxPerSecond: number | undefined
  readonly cpu: number
  readonly changes: number
  readonly shards: readonly number[]
  readonly resident: readonly number[]
  readonly fires?: readonly number[]
  readonly cold?: readonly number[]
  readonly takeoverMs?: number
}

type Worker = ReturnType<typeof startWorker>
const json = <T>(w: Worker, key: string): T | undefined => {
  const line = w.lines.find((l) => l.startsWith(`{"${key}"`))
  return line ? (JSON.parse(line) as Record<string, T>)[key] : undefined
}

async function serverTransactions(): Promise<number | undefined> {
  const url = process.env['PG_URL']
  if (!url) return undefined
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const r = await c.query<{ n: string }>('SELECT sum(xact_commit + xact_rollback)::text AS n FROM pg_stat_database')
  await c.end()
  return Number(r.rows[0]!.n)
}

async function run(target: string, dir: string, actors: number): Promise<Figures> {
  const label = `${target.slice(0, target.indexOf(':'))}-${actors}`
  const files = join(dir, label)
  const { mkdirSync } = await import('node:fs')
  mkdirSync(files, { recursive: true })
  const fires = actors === LATENCY_AT ? FIRES : 0
  const workers = [0, 1, 2].map((i) => startWorker('../../../bench/workers/shardHost', [target, String(i), String(actors), files, String(fires)]))
  try {
    await waitUntil(() => workers.every((w) => w.lines.some((l) => l.startsWith('loaded '))), 900_000, `${actors} actors to load`)
    // Settled: each leads its share (16 shards over 3: 6, 5, 5), for a while.
    await waitUntil(() => workers.reduce((n, w) => n + ledBy(w).size, 0) === ShardedJournal.shards && Math.max(...workers.map((w) => ledBy(w).size)) <= 6, 60_000, 'the shards to settle')
    await new Promise((r) => setTimeout(r, 2_000))
    const isPg = target.startsWith('pg:')
    const txBefore = isPg ? await serverTransactions() : undefined
    writeFileSync(join(files, 'measure'), '')
    await new Promise((r) => setTimeout(r, IDLE_MS))
    writeFileSync(join(files, 'stop-idle'), '')
    const txAfter = isPg ? await serverTransactions() : undefined
    await waitUntil(() => workers.every((w) => json(w, 'idle') !== undefined), 30_000, 'the idle figures')
    const followed = workers.flatMap((w) => w.lines.filter((l) => l.startsWith('follow ')))
    if (process.env['SHARDS_BENCH_VERBOSE']) console.log(followed.join('\n'))
    const idle = workers.map((w) => json<{ ops: number; cpuMs: number; windowMs: number; changes: number; shards: number; resident: number }>(w, 'idle')!)
    const windowMs = Math.max(...idle.map((i) => i.windowMs))
    const figures: Figures = {
      actors,
      opsPerSecond: (idle.reduce((n, i) => n + i.ops, 0) * 1000) / windowMs,
      // Minus the two of the measuring client itself.
      serverTxPerSecond: txBefore !== undefined && txAfter !== undefined ? ((txAfter - txBefore - 2) * 1000) / IDLE_MS : undefined,
      cpu: idle.reduce((n, i) => n + i.cpuMs / i.windowMs, 0) / 3,
      changes: idle.reduce((n, i) => n + i.changes, 0),
      shards: idle.map((i) => i.shards),
      resident: idle.map((i) => i.resident),
    }
    if (fires === 0) return figures
    writeFileSync(join(files, 'fire'), '')
    await waitUntil(() => json(workers[0]!, 'fires') !== undefined, 300_000, 'the proposals')
    const times = [...json<number[]>(workers[0]!, 'fires')!].sort((a, b) => a - b)
    const cold = [...json<number[]>(workers[0]!, 'cold')!].sort((a, b) => a - b)
    const victim = workers[2]!
    const orphans = [...ledBy(victim)]
    const killedAt = Date.now()
    victim.kill('SIGKILL')
    const others = workers.slice(0, 2)
    await waitUntil(() => orphans.every((s) => firstLedAfter(others, killedAt).has(s)), 30_000, "the killed process's shards to move")
    const takeoverMs = Math.max(...orphans.map((s) => firstLedAfter(others, killedAt).get(s)!)) - killedAt
    return { ...figures, fires: times, cold, takeoverMs }
  } finally {
    for (const w of workers) w.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
  }
}

const pct = (n: number) => `${(n * 100).toFixed(1)}%`
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`
const count = (n: number) => n.toLocaleString('en-US')

function table(engine: string, all: readonly Figures[]): void {
  const base = all.find((f) => f.actors === 100) ?? all[0]!
  const rows: Row[] = all.flatMap((f) => {
    const rows: Row[] = [
      { what: `${count(f.actors)} actors, idle: store calls/s (3 processes)`, value: `${f.opsPerSecond.toFixed(0)}/s`, baseline: `${base.opsPerSecond.toFixed(0)}/s with ${count(base.actors)}`, ratio: `${(f.opsPerSecond / base.opsPerSecond).toFixed(2)}x`, goal: f === base ? '' : '<= 2x' },
    ]
    if (f.serverTxPerSecond !== undefined) rows.push({ what: '  server transactions/s', value: `${f.serverTxPerSecond.toFixed(0)}/s`, baseline: `${(base.serverTxPerSecond ?? 0).toFixed(0)}/s`, ratio: `${(f.serverTxPerSecond / (base.serverTxPerSecond ?? 1)).toFixed(2)}x`, goal: '' })
    rows.push(
      { what: '  CPU per process (mean)', value: pct(f.cpu), baseline: pct(base.cpu), ratio: '', goal: '' },
      { what: '  leadership changes while idle', value: String(f.changes), baseline: '', ratio: '', goal: '0' },
      { what: '  shards per process', value: f.shards.join(' / '), baseline: '', ratio: '', goal: 'within 1' },
      { what: '  resident actors per process', value: f.resident.map(count).join(' / '), baseline: '', ratio: '', goal: '' },
    )
    if (f.fires) {
      rows.push(
        { what: `  follower Fire (proposal) p50, ${count(f.actors)} resident`, value: ms(percentile(f.fires, 50)), baseline: '', ratio: '', goal: '' },
        { what: '  follower Fire (proposal) p99', value: ms(percentile(f.fires, 99)), baseline: '', ratio: '', goal: '< 20 ms' },
        { what: '  the same, activating the actor on its owner: p50', value: ms(percentile(f.cold!, 50)), baseline: '', ratio: '', goal: '' },
        { what: '  the same, activating: p99', value: ms(percentile(f.cold!, 99)), baseline: '', ratio: '', goal: '' },
        { what: '  kill -9 of 1 of 3: last shard has a new owner', value: ms(f.takeoverMs!), baseline: '', ratio: '', goal: `<= ${ShardedJournal.leaseMs + ShardedJournal.renewEveryMs} ms` },
      )
    }
    return rows
  })
  printTable(`Sharded OneActors on ${engine}: 3 processes, ${ShardedJournal.shards} shards, lease ${ShardedJournal.leaseMs} ms, idle window ${IDLE_MS / 1000} s`, rows)
}

export async function benchShards(): Promise<void> {
  const tmp = tempDir('omniscient-bench-')
  try {
    const sqlite: Figures[] = []
    for (const actors of SIZES) sqlite.push(await run(`sqlite:${join(tmp.dir, `shards-${actors}.db`)}`, tmp.dir, actors))
    table('SqliteStore', sqlite)
    const url = process.env['PG_URL']
    if (!url) {
      console.log('\nSharded OneActors on PgStore: skipped (no PG_URL)')
      return
    }
    const onPg: Figures[] = []
    for (const actors of SIZES) {
      const schema = `bench_shards_${process.pid}_${actors}`
      try {
        onPg.push(await run(`pg:${schema}`, tmp.dir, actors))
      } finally {
        const c = new pg.Client({ connectionString: url })
        await c.connect()
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) // bench clean-up only
        await c.end()
      }
    }
    table('PgStore', onPg)
  } finally {
    tmp.remove()
  }
}

// `tsx bench/shards.ts` runs this section alone.
if (import.meta.url === `file://${process.argv[1]}`) await benchShards()
