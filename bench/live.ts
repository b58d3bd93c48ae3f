// LiveActor figures on SqliteStore, with real processes: live delivery latency from a commit
// in process A to the handler in process B, and throughput of 4 processes firing on one id
// against 1 process alone.
import { join } from 'node:path'
import { SqliteStore } from 'omniscient-actors'
import { startTogether, startWorker, waitUntil } from '../spec/support/processes.js'
import { tempDir } from '../spec/support/tmp.js'
import { percentile, perSecond, printTable, type Row } from './support.js'

const PINGS = 1_000
const FIRES = 500

const ms = (n: number) => `${n.toFixed(2)} ms`
// Against a baseline too small to measure, a ratio says nothing.
const ratio = (value: number, baseline: number) => (baseline < 0.05 ? 'n/a' : `${(value / baseline).toFixed(1)}x`)

async function latency(): Promise<{ cross: number[]; local: number[] }> {
  const tmp = tempDir('omniscient-bench-')
  const file = join(tmp.dir, 'latency.db')
  const store = new SqliteStore({ file })
  const remote = startWorker('../../../bench/workers/liveLatency', [file, String(PINGS)])
  await waitUntil(() => remote.lines.includes('ready'), 30_000, 'the follower')
  const localReceived: number[] = []
  const local = store.subscribe({ streamId: 'ping' }, (e) => void (localReceived[(e.data as { i: number }).i] = performance.timeOrigin + performance.now()))
  const committed: number[] = []
  for (let i = 0; i < PINGS; i++) {
    await store.append('ping', [{ id: `ping-${i}`, name: 'ping', data: { i }, schemaVersion: 1, at: Date.now(), meta: {} }], { expectedVersion: i })
    committed[i] = performance.timeOrigin + performance.now()
    // A steady trickle, not a flood: latency is about one event's trip.
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 2))
  }
  await waitUntil(() => remote.lines.length >= 2, 30_000, 'the follower to report')
  await remote.exited
  await local.close()
  await store.close()
  tmp.remove()
  const received = JSON.parse(remote.lines[1]!) as number[]
  // The in-process subscriber can run before append's caller resumes: clamp at zero.
  const lag = (at: number[]) => at.map((t, i) => Math.max(0, t - committed[i]!)).sort((a, b) => a - b)
  return { cross: lag(received), local: lag(localReceived) }
}

/**
 * `processes` writers firing FIRES events each on one id at once: the Fires per second, and
 * each single Fire's wait (call to durable) and races lost, sorted.
 */
export async function firing(processes: number): Promise<{ perSecond: number; waits: number[]; losses: number[] }> {
  const tmp = tempDir('omniscient-bench-')
  const file = join(tmp.dir, 'contention.db')
  const go = join(tmp.dir, 'go')
  const workers = Array.from({ length: processes }, (_, p) => startWorker('../../../bench/workers/liveFirer', [file, 'tally', `p${p}`, String(FIRES), go]))
  await startTogether(workers, go)
  await Promise.all(workers.map((w) => w.exited))
  tmp.remove()
  const line = (w: { lines: string[] }, prefix: string) => w.lines.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? '[]'
  const slowest = Math.max(...workers.map((w) => Number(line(w, 'took '))))
  const all = (prefix: string) => workers.flatMap((w) => JSON.parse(line(w, prefix)) as number[]).sort((a, b) => a - b)
  return { perSecond: (processes * FIRES) / (slowest / 1000), waits: all('waits '), losses: all('losses ') }
}

export async function benchLive(): Promise<void> {
  const { cross, local } = await latency()
  const alone = (await firing(1)).perSecond
  const contended = (await firing(4)).perSecond
  const { waits, losses } = await firing(3)
  const rows: Row[] = [
    {
      what: 'live delivery A -> B, p50 (commit to handler)',
      value: ms(percentile(cross, 50)),
      baseline: `${ms(percentile(local, 50))} in-process`,
      ratio: ratio(percentile(cross, 50), percentile(local, 50)),
      goal: '',
    },
    {
      what: 'live delivery A -> B, p99',
      value: ms(percentile(cross, 99)),
      baseline: `${ms(percentile(local, 99))} in-process`,
      ratio: ratio(percentile(cross, 99), percentile(local, 99)),
      goal: 'p99 < 10 ms',
    },
    {
      what: `LiveActor, 4 processes x ${FIRES} Fires on one id`,
      value: perSecond(contended),
      baseline: `${perSecond(alone)} 1 process alone`,
      ratio: `${(contended / alone).toFixed(2)}x`,
      goal: '>= 0.5x uncontended',
    },
    {
      what: `LiveActor, 3 processes x ${FIRES} Fires racing on one id: races lost by one Fire, at most`,
      value: String(losses.at(-1) ?? 0),
      baseline: `${percentile(losses, 99)} p99`,
      ratio: '',
      goal: 'no writer starves',
    },
    {
      what: '... the longest wait of one Fire',
      value: ms(waits.at(-1) ?? 0),
      baseline: `${ms(percentile(waits, 50))} p50, ${ms(percentile(waits, 99))} p99`,
      ratio: ratio(waits.at(-1) ?? 0, percentile(waits, 50)),
      goal: '',
    },
  ]
  printTable(`LiveActor on SqliteStore across processes (${PINGS} pings, durability full)`, rows)
}
