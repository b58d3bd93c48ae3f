import { expect } from 'chai'
import { type EventEnvelope } from 'omniscient-actors'
import { freshTarget, openStore, processStoreKinds } from '../support/openStore.js'
import { killWorkers, startWorker, waitUntil } from '../support/processes.js'
import { collect } from '../store/conformance.js'
import { Journal } from '../support/Journal.js'

type Worker = ReturnType<typeof startWorker>

const leaderOf = (workers: Worker[], term: number) => workers.find((w) => w.lines.some((l) => l.startsWith(`leader ${term} `)))
const newLeaderAmong = (workers: Worker[]) => workers.find((w) => w.lines.some((l) => l.startsWith('leader ') && l.split(' ')[1] !== '1'))

/** In position order, terms never go back: a deposed leader never wrote after a newer one. */
function assertNoSplitBrain(events: EventEnvelope[]): void {
  let highest = 0
  for (const e of events) {
    const term = e.meta.term ?? 0
    expect(term, `event ${e.version} written under term ${term} after term ${highest}`).to.be.at.least(highest)
    highest = term
  }
}
/** The Fires the workers printed as resolved so far: id and the version they were told. */
const resolvedFires = (workers: Worker[]) =>
  workers.flatMap((w) =>
    w.lines
      .filter((l) => l.startsWith('resolved '))
      .map((l) => {
        const [, id, version] = l.split(' ')
        return { id: id!, version: Number(version) }
      }),
  )

/**
 * Each Fire that resolved before the journal was read is stored, at the version it was told.
 * The workers keep firing while the journal is read: a Fire that resolves after the read's
 * snapshot is not in it, so the list must be taken before the read.
 */
function assertResolvedStored(resolved: ReturnType<typeof resolvedFires>, events: EventEnvelope[]): void {
  for (const { id, version } of resolved) expect(events[version - 1]?.id, `resolved ${id} is stored at version ${version}`).to.equal(id)
}

async function journal(target: string): Promise<EventEnvelope[]> {
  const store = openStore(target)
  const events = await collect(store.readStream('journal'))
  await store.close()
  return events
}

for (const kind of processStoreKinds) describe(`OneActor across processes on one ${kind.name}`, function () {
  this.timeout(90_000)
  let workers: Worker[] = []
  afterEach(function () {
    // Before the workers are killed: what each printed, to tell what happened in a failed case.
    if (this.currentTest?.state !== 'failed') return
    for (const [i, w] of workers.entries()) process.stderr.write(`      worker ${i} printed:\n${w.lines.slice(-80).map((l) => `        ${l}`).join('\n')}\n`)
  })
  afterEach(async () => {
    await killWorkers(workers)
    workers = []
  })
  const fresh = freshTarget(kind) // after the workers are gone: a PostgreSQL schema is dropped

  it('should fail over within lease + one renewal after the leader is killed (kill -9), losing no resolved Fire', async () => {
    const file = fresh.target
    workers = ['a', 'b', 'c'].map((label) => startWorker('journalWriter', [file, label]))
    await waitUntil(() => workers.every((w) => w.lines.filter((l) => l.startsWith('resolved')).length >= 5), 30_000, 'every process to have fired')
    const leader = leaderOf(workers, 1)!
    const killedAt = Date.now()
    leader.kill('SIGKILL')
    await leader.exited
    const survivors = workers.filter((w) => w !== leader)
    await waitUntil(() => leaderOf(survivors, 2) !== undefined, 10_000, 'a new leader')
    await waitUntil(() => survivors.every((w) => w.lines.filter((l) => l.startsWith('resolved')).length >= 20), 30_000, 'more Fires')

    const resolved = resolvedFires(workers)
    const events = await journal(file)
    // The first Fire that resolved, in a surviving process, under the new term.
    const resolvedUnderNewTerm = survivors
      .flatMap((w) => w.lines.filter((l) => l.startsWith('resolved ')).map((l) => l.split(' ')))
      .filter((parts) => parts[4] === '2')
      .map((parts) => Number(parts[3]))
    const failover = Math.min(...resolvedUnderNewTerm) - killedAt
    if (process.env["SHOW_FAILOVER"]) console.log(`      failover: ${failover} ms`)
    expect(failover, `failover took ${failover} ms`).to.be.at.most(Journal.leaseMs + Journal.renewEveryMs + 400)
    const ids = events.map((e) => e.id)
    expect(new Set(ids).size, 'no event stored twice').to.equal(ids.length)
    assertResolvedStored(resolved, events)
    expect(events.map((e) => e.version)).to.deep.equal(events.map((_, i) => i + 1))
    assertNoSplitBrain(events)
  })

  it('should store nothing a paused leader writes after another took over, and make it a follower (SIGSTOP/SIGCONT)', async () => {
    const file = fresh.target
    workers = ['a', 'b', 'c'].map((label) => startWorker('journalWriter', [file, label]))
    await waitUntil(() => workers.every((w) => w.lines.filter((l) => l.startsWith('resolved')).length >= 5), 30_000, 'every process to have fired')
    const leader = leaderOf(workers, 1)!
    const others = workers.filter((w) => w !== leader)
    // SQLite's write lock is a file lock: a process paused in the middle of a commit keeps it,
    // and no other process can write (nor take the lease) until it runs again. If the pause
    // lands there, resume it for a moment and pause it again.
    for (let attempt = 0; !newLeaderAmong(others); attempt++) {
      if (attempt === 5) throw new Error('no takeover after 5 pauses')
      leader.kill('SIGSTOP')
      try {
        await waitUntil(() => newLeaderAmong(others) !== undefined, 3 * Journal.leaseMs, 'a new leader')
      } catch {
        leader.kill('SIGCONT')
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const resolvedSoFar = (w: Worker) => w.lines.filter((l) => l.startsWith('resolved')).length
    const before = others.map(resolvedSoFar)
    await waitUntil(() => others.every((w, i) => resolvedSoFar(w) >= before[i]! + 10), 30_000, 'the new leader to commit')
    const linesBefore = leader.lines.length
    leader.kill('SIGCONT')
    const status = () => leader.lines.filter((l) => l.startsWith('leader ') || l.startsWith('follower ')).at(-1) ?? ''
    await waitUntil(() => !status().startsWith('leader 1 '), 10_000, 'the old leader to step down')
    await waitUntil(() => leader.lines.slice(linesBefore).filter((l) => l.startsWith('resolved')).length >= 3, 20_000, 'it to fire again, as a follower')

    const resolved = resolvedFires(workers)
    const events = await journal(file)
    expect(events.some((e) => (e.meta.term ?? 0) > 1), 'a newer term wrote').to.equal(true)
    assertNoSplitBrain(events)
    const ids = events.map((e) => e.id)
    expect(new Set(ids).size).to.equal(ids.length)
    assertResolvedStored(resolved, events)
  })
})
