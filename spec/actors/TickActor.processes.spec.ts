import { join } from 'node:path'
import { expect } from 'chai'
import { SqliteStore, type TickData } from 'omniscient-actors'
import { startTogether, startWorker } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'
import { collect } from '../store/conformance.js'

describe('TickActor across processes on one SQLite file', function () {
  this.timeout(60_000)
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => (tmp = tempDir()))
  afterEach(() => tmp.remove())

  it('should store between 40 and 50 ticks in 5 s at 100 ms from two processes, without gap or duplicate', async () => {
    const file = join(tmp.dir, 'tick.db')
    const go = join(tmp.dir, 'go')
    const workers = [0, 1].map(() => startWorker('ticker', [file, '5000', go]))
    await startTogether(workers, go)
    expect(await Promise.all(workers.map((w) => w.exited))).to.deep.equal([0, 0])
    const store = new SqliteStore({ file })
    const ticks = (await collect(store.readStream('clock'))).map((e) => e.data as TickData)
    await store.close()
    if (process.env["SHOW_TICKS"]) console.log(`      ticks: ${ticks.length}`)
    expect(ticks.length).to.be.within(40, 50)
    expect(ticks.map((t) => t.tick)).to.deep.equal(ticks.map((_, i) => i + 1))
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.firedAt - ticks[i - 1]!.firedAt).to.be.at.least(100)
    // Each says whether it led just before it stopped: one did. The other may have too, if it took
    // over between the first one's release and its own line, but under a term of its own.
    const ends = workers.map((w) => w.lines.at(-1)!.split(' '))
    const leaderTerms = ends.filter((e) => e[1] === 'leader=true').map((e) => e[3])
    expect(leaderTerms.length).to.be.at.least(1)
    expect(new Set(leaderTerms).size, `terms ${leaderTerms.join(', ')}`).to.equal(leaderTerms.length)
  })
})
