// OneActor figures on SqliteStore: failover time after kill -9 (real processes), and the
// latency of a follower's Fire (proposal -> leader -> stored -> back) against the leader's own.
import { join } from 'node:path'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { startWorker, waitUntil } from '../spec/support/processes.js'
import { Journal } from '../spec/support/Journal.js'
import { tempDir } from '../spec/support/tmp.js'
import { percentile, printTable, type Row } from './support.js'

const KILLS = 10
const FIRES = 400
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`

type Worker = ReturnType<typeof startWorker>

function resolvedUnder(w: Worker, minTerm: number): number[] {
  return w.lines
    .filter((l) => l.startsWith('resolved '))
    .map((l) => l.split(' '))
    .filter((p) => Number(p[4]) >= minTerm)
    .map((p) => Number(p[3]))
}

/** The term a worker says it leads under now (0 when it follows). */
function leaderTerm(w: Worker): number {
  const status = w.lines.filter((l) => l.startsWith('leader ') || l.startsWith('follower ')).at(-1) ?? ''
  return status.startsWith('leader ') ? Number(status.split(' ')[1]) : 0
}

const leadingAbove = (workers: Worker[], term: number) => workers.find((w) => leaderTerm(w) > term)

async function failovers(): Promise<number[]> {
  const tmp = tempDir('omniscient-bench-')
  const file = join(tmp.dir, 'failover.db')
  let label = 0
  const spawn = () => startWorker('journalWriter', [file, `w${label++}`])
  const workers = [spawn(), spawn(), spawn()]
  const times: number[] = []
  let term = 0
  for (let k = 0; k < KILLS; k++) {
    await waitUntil(() => leadingAbove(workers, term) !== undefined, 30_000, 'a leader')
    const leader = leadingAbove(workers, term)!
    term = leaderTerm(leader)
    await waitUntil(() => resolvedUnder(leader, term).length > 3, 30_000, 'the leader to commit')
    const killedAt = Date.now()
    leader.kill('SIGKILL')
    await leader.exited
    workers.splice(workers.indexOf(leader), 1)
    await waitUntil(() => workers.some((w) => resolvedUnder(w, term + 1).some((t) => t >= killedAt)), 30_000, 'a commit under the next term')
    times.push(Math.min(...workers.flatMap((w) => resolvedUnder(w, term + 1).filter((t) => t >= killedAt))) - killedAt)
    workers.push(spawn())
  }
  for (const w of workers) w.kill('SIGKILL')
  await Promise.all(workers.map((w) => w.exited))
  tmp.remove()
  return times.sort((a, b) => a - b)
}

async function commitLatency(): Promise<{ follower: number[]; leader: number[] }> {
  const tmp = tempDir('omniscient-bench-')
  const file = join(tmp.dir, 'latency.db')
  // Two connections, as two processes would have: the follower learns of commits by polling.
  const leaderStore = new SqliteStore({ file })
  const followerStore = new SqliteStore({ file })
  const leader = await new Journal('j', createContainer({ store: leaderStore })).Load()
  const follower = await new Journal('j', createContainer({ store: followerStore })).Load()
  if (!leader.IsLeader || follower.IsLeader) throw new Error('unexpected election')
  const time = async (actor: Journal, n: number) => {
    const start = performance.now()
    await actor.Fire('entry', { by: 'bench', n })
    return performance.now() - start
  }
  const followerTimes: number[] = []
  const leaderTimes: number[] = []
  for (let n = 0; n < FIRES; n++) {
    followerTimes.push(await time(follower, n))
    leaderTimes.push(await time(leader, n))
  }
  await follower.Stop()
  await leader.Stop()
  await Promise.all([leaderStore.close(), followerStore.close()])
  tmp.remove()
  return { follower: followerTimes.sort((a, b) => a - b), leader: leaderTimes.sort((a, b) => a - b) }
}

export async function benchOne(): Promise<void> {
  const times = await failovers()
  const { follower, leader } = await commitLatency()
  const budget = Journal.leaseMs + Journal.renewEveryMs
  const rows: Row[] = [
    { what: `failover after kill -9, median of ${KILLS}`, value: ms(percentile(times, 50)), baseline: `${ms(budget)} lease + renewal`, ratio: `${(percentile(times, 50) / budget).toFixed(2)}x`, goal: '<= lease + one renewal' },
    { what: `failover after kill -9, max of ${KILLS}`, value: ms(times.at(-1)!), baseline: `${ms(budget)} lease + renewal`, ratio: `${(times.at(-1)! / budget).toFixed(2)}x`, goal: '<= lease + one renewal' },
    { what: `follower Fire to resolution, p50 (${FIRES})`, value: ms(percentile(follower, 50)), baseline: `${ms(percentile(leader, 50))} leader's own`, ratio: `${(percentile(follower, 50) / percentile(leader, 50)).toFixed(1)}x`, goal: '' },
    { what: `follower Fire to resolution, p99 (${FIRES})`, value: ms(percentile(follower, 99)), baseline: `${ms(percentile(leader, 99))} leader's own`, ratio: `${(percentile(follower, 99) / percentile(leader, 99)).toFixed(1)}x`, goal: '' },
  ]
  printTable(`OneActor on SqliteStore (lease ${Journal.leaseMs} ms, renewal every ${Journal.renewEveryMs} ms)`, rows)
}
