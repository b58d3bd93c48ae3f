import { format } from 'node:util'
import { expect } from 'chai'
import { createContainer } from 'omniscient-actors'
import { RemoteStore, SyncUnavailableError } from 'omniscient-actors/sync'
import { waitUntil } from '../support/processes.js'
import { Tally } from '../support/Tally.js'
import { syncServerEachTest } from './syncServer.js'

describe('a routine sync server restart, as the default reporter tells it', function () {
  this.timeout(20_000)
  const server = syncServerEachTest()

  it('should print one line when the outage starts (and one when a longer one ends), never a stack trace', async () => {
    const printed: string[] = []
    const original = console.error
    console.error = (...args: unknown[]) => void printed.push(format(...args))
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 20, maxMs: 100 } })
    const container = createContainer({ store })
    try {
      const tally = await new Tally('t', container).Load()
      await server.current.stop()
      await waitUntil(() => printed.length >= 1, 5_000, 'the outage to be reported')
      server.current = await server.current.restart()
      await server.current.container.store.append('t', [{ id: 'x', name: 'counted', data: { by: 'srv', n: 1 }, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 0 })
      await waitUntil(() => tally.version === 1, 5_000, 'the live event after the restart')
      // The end of a run of more than one failure is reported too (Outage); nothing else.
      await new Promise((r) => setTimeout(r, 300))
    } finally {
      console.error = original
      await container.close()
    }
    expect(printed.length, printed.join('\n')).to.be.within(1, 2)
    for (const line of printed) {
      expect(line, line).to.not.include('\n')
      expect(line, line).to.include(server.current.url)
    }
    expect(printed[0]).to.include('SyncUnavailableError (UNREACHABLE)')
    if (printed[1] !== undefined) expect(printed[1]).to.include('OutageError (OUTAGE)').and.include('it works again')
  })

  it('should hand a reporter of one\'s own a SyncUnavailableError whose cause is the network failure', async () => {
    const reported: unknown[] = []
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 20, maxMs: 100 } })
    const container = createContainer({ store, report: (err) => void reported.push(err) })
    try {
      await new Tally('t', container).Load()
      await server.current.stop()
      await waitUntil(() => reported.length >= 1, 5_000, 'the outage to be reported')
    } finally {
      await container.close()
    }
    expect(reported[0]).to.be.instanceOf(SyncUnavailableError)
    expect((reported[0] as Error).cause).to.be.instanceOf(Error)
  })
})
