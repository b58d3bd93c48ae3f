import { join } from 'node:path'
import { expect } from 'chai'
import { createContainer } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { collect } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { syncServerEachTest } from './syncServer.js'

describe('closing a RemoteStore with Fires waiting for its server', function () {
  this.timeout(30_000)
  const server = syncServerEachTest()

  it('should reject every pending Fire with StoreClosedError, keep all of them queued, and send them at the next start', async () => {
    const copy = join(server.current.dir, 'device.db')
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }), backoff: { initialMs: 20, maxMs: 100 } })
    const container = createContainer({ store, report: () => {} })
    const tally = await new Tally('t', container).Load()
    await server.current.stop()
    const fires = [1, 2, 3].map((n) => tally.Fire('counted', { by: 'me', n }).then(() => 'stored', (e: unknown) => e))
    await waitUntil(() => store.status.queued === 3, 5_000, 'the three Fires to be queued')
    await container.close()
    const outcomes = await Promise.all(fires)
    for (const outcome of outcomes) {
      expect(outcome).to.include({ name: 'StoreClosedError', code: 'STORE_CLOSED' })
      expect((outcome as Error).message, (outcome as Error).stack).to.include('stays queued')
    }
    server.current = await server.current.restart()
    const again = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file: copy }) })
    try {
      await again.drained()
      const stored = await collect(server.current.container.store.readStream('t'))
      expect(stored.map((e) => (e.data as { n: number }).n)).to.deep.equal([1, 2, 3])
    } finally {
      await again.close()
    }
  })
})
