import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { startTogether, startWorker } from '../support/processes.js'
import { Tally, TallyEvents } from '../support/Tally.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

describe('LiveActor on RemoteStores and on the server\'s own store, across processes', function () {
  this.timeout(120_000)
  let server: SyncServerHarness
  beforeEach(async () => {
    server = await startSyncServer({ events: [TallyEvents] })
  })
  afterEach(async () => {
    await server.dispose()
  })

  it('should converge: two remote processes and one local process x 30 Fires on one id, every state equal to a fresh Load', async () => {
    const go = join(server.dir, 'go')
    const targets = [`${server.url}#token-alice`, `${server.url}#token-bob`, server.file]
    const labels = ['remote-a', 'remote-b', 'local']
    const workers = targets.map((target, i) => startWorker('liveFirer', [target, 'tally', labels[i]!, '30', '90', go]))
    await startTogether(workers, go)
    expect(await Promise.all(workers.map((w) => w.exited))).to.deep.equal([0, 0, 0])

    const store = new SqliteStore({ file: server.file })
    const events = await collect(store.readStream('tally'))
    expect(events.map((e) => e.version)).to.deep.equal(Array.from({ length: 90 }, (_, i) => i + 1))
    for (const label of labels) {
      const mine = events.filter((e) => (e.data as { by: string }).by === label).map((e) => (e.data as { n: number }).n)
      expect(mine, `${label}'s events, once each, in its order`).to.deep.equal(Array.from({ length: 30 }, (_, i) => i))
    }
    const fresh = await new Tally('tally', createContainer({ store })).Load()
    await fresh.Stop()
    await store.close()
    const digest = createHash('sha256').update(JSON.stringify(fresh._state)).digest('hex')
    for (const w of workers) expect(w.lines.at(-1)).to.equal(`state 90 ${digest}`)
  })
})
