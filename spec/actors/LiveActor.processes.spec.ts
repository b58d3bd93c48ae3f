import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer } from 'omniscient-actors'
import { freshTarget, openStore, processStoreKinds } from '../support/openStore.js'
import { startTogether, startWorker } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { collect } from '../store/conformance.js'

for (const kind of processStoreKinds) describe(`LiveActor across processes on one ${kind.name}`, function () {
  this.timeout(120_000)
  const where = freshTarget(kind)

  it('should converge: 4 processes x 500 Fires on one id, 2000 events, every state equal to a fresh Load', async () => {
    const { target } = where
    const go = join(where.dir, 'go')
    const labels = ['p0', 'p1', 'p2', 'p3']
    const workers = labels.map((label) => startWorker('liveFirer', [target, 'tally', label, '500', '2000', go]))
    await startTogether(workers, go)
    expect(await Promise.all(workers.map((w) => w.exited))).to.deep.equal([0, 0, 0, 0])

    const store = openStore(target)
    const events = await collect(store.readStream('tally'))
    expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i + 1))
    expect(new Set(events.map((e) => e.id)).size).to.equal(2000)
    for (const label of labels) {
      const mine = events.filter((e) => (e.data as { by: string }).by === label).map((e) => (e.data as { n: number }).n)
      expect(mine, `${label}'s events, once each, in its order`).to.deep.equal(Array.from({ length: 500 }, (_, i) => i))
    }
    const fresh = await new Tally('tally', createContainer({ store })).Load()
    await fresh.Stop()
    await store.close()
    const digest = createHash('sha256').update(JSON.stringify(fresh._state)).digest('hex')
    for (const w of workers) expect(w.lines.at(-1)).to.equal(`state 2000 ${digest}`)
  })
})
