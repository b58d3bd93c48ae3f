import { expect } from 'chai'
import { createContainer, OutageError } from 'omniscient-actors'
import { RemoteStore, type Fetch } from 'omniscient-actors/sync'
import { waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { syncServerEachTest } from './syncServer.js'

/** The platform's fetch, counting the requests whose URL holds `part`. */
function countingFetch(part: string): { readonly fetch: Fetch; readonly count: number } {
  let count = 0
  return {
    fetch: (input, init) => {
      if (input.includes(part)) count++
      return fetch(input, init)
    },
    get count() {
      return count
    },
  }
}

describe('LiveActor on a RemoteStore: a lost server is one outage', function () {
  this.timeout(30_000)
  const server = syncServerEachTest()

  it('should report the first lost connection once and the outage\'s end once, however many reconnections failed', async () => {
    const liveAttempts = countingFetch('/live')
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 10, maxMs: 40 }, fetch: liveAttempts.fetch })
    const reports: Array<{ where: string; err: unknown }> = []
    const container = createContainer({ store, report: (err, { where }) => reports.push({ where, err }) })
    try {
      const tally = await new Tally('t', container).Load()
      await waitUntil(() => store.status.connected, 5_000, 'the live feed')
      await server.current.stop()
      const before = liveAttempts.count
      await waitUntil(() => liveAttempts.count >= before + 8, 10_000, 'several failed reconnections')
      expect(tally.Following).to.equal(false)
      expect(tally.Stuck?.failures).to.be.greaterThan(1)
      expect(reports, 'the first failure, once').to.have.length(1)
      server.current = await server.current.restart()
      await waitUntil(() => tally.Following, 10_000, 'following again')
      expect(reports).to.have.length(2)
      expect(reports[1]!.err).to.be.instanceOf(OutageError)
      expect((reports[1]!.err as OutageError).failures).to.be.greaterThan(1)
    } finally {
      await container.close()
    }
  })

  it('should stop probing its server once its store is closed during an outage (nothing keeps the process alive)', async () => {
    const reads = countingFetch('/streams/')
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 10, maxMs: 40 }, fetch: reads.fetch })
    const container = createContainer({ store, report: () => {} })
    const tally = await new Tally('t', container).Load()
    await waitUntil(() => store.status.connected, 5_000, 'the live feed')
    await server.current.stop()
    await waitUntil(() => tally.Stuck !== undefined && reads.count > 1, 5_000, 'the outage and a probe')
    await container.close()
    const after = reads.count
    // The probe waits at most 2 s between reads: a little longer shows it has stopped.
    await new Promise((r) => setTimeout(r, 2_500))
    expect(reads.count, 'reads after the store closed').to.equal(after)
    expect(tally.Following).to.equal(false)
  })
})
