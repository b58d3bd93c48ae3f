import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { freshTarget, processStoreKinds } from '../support/openStore.js'
import { killWorkers, startWorker, waitUntil } from '../support/processes.js'
import { Journal } from '../support/Journal.js'

type Worker = ReturnType<typeof startWorker>

const MARGIN = Journal.leaseMs / 10 // the default leaseMarginMs
const line = (w: Worker, prefix: string) => w.lines.find((l) => l.startsWith(prefix))?.split(' ')

for (const kind of processStoreKinds) describe(`OneActor leadership that expires at the holder, across processes on ${kind.name}`, function () {
  this.timeout(60_000)
  let workers: Worker[] = []
  afterEach(async () => {
    await killWorkers(workers)
    workers = []
  })
  const fresh = freshTarget(kind)

  it('should stop believing it leads at its last renewal start + leaseMs - margin when its store goes silent, before the other process leads', async () => {
    const cutFile = join(fresh.dir, 'cut')
    const a = startWorker('cutLeader', [fresh.target, 'a', cutFile])
    workers = [a]
    await waitUntil(() => line(a, 'leader 1 ') !== undefined && a.lines.includes('ready'), 30_000, 'a to lead')
    const b = startWorker('cutLeader', [fresh.target, 'b', join(fresh.dir, 'never')])
    workers.push(b)
    await waitUntil(() => b.lines.includes('ready'), 30_000, 'b to follow')
    expect(line(b, 'leader '), 'b follows while a leads').to.equal(undefined)
    writeFileSync(cutFile, 'cut')
    await waitUntil(() => line(b, 'leader 2 ') !== undefined && line(a, 'following 1 ') !== undefined, 15_000, 'b to lead and a to follow')

    const cutAt = Number(line(a, 'cut ')![1])
    const [, , followedAt, endedAt] = line(a, 'following 1 ')!.map(Number) as [number, number, number, number]
    const bLeadsAt = Number(line(b, 'leader 2 ')![2])
    if (process.env['SHOW_EXPIRY']) console.log(`      cut at 0; a's leadership ended at ${endedAt - cutAt} ms (seen ${followedAt - cutAt}); b leads at ${bLeadsAt - cutAt} ms`)
    // Its last renewal began before the cut, so its leadership ends at most lease - margin after it.
    expect(endedAt - cutAt, 'a stops within lease - margin of the cut').to.be.at.most(Journal.leaseMs - MARGIN)
    // The step-down runs on a timer at that instant (later only on a busy event loop).
    expect(followedAt - endedAt, 'a steps down at its expiry').to.be.within(0, 500)
    // One clock on one machine: no moment at which both believe they lead.
    expect(bLeadsAt, 'b leads only after a stopped believing it leads').to.be.at.least(endedAt)
    expect(bLeadsAt - cutAt, 'b leads within lease + one renewal of the cut').to.be.at.most(Journal.leaseMs + Journal.renewEveryMs + 500)
  })
})
