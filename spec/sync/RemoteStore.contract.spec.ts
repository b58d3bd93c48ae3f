import { MemoryCopy, RemoteStore } from 'omniscient-actors/sync'
import { describeStorageContract } from '../store/conformance.js'
import { startSyncServer } from './syncServer.js'

// The whole contract, over a real loopback socket, with a SQLite store behind the server.
describeStorageContract('RemoteStore (over HTTP, SQLite behind)', async () => {
  // The suite appends 10,000 events at once and opens 3,000 live subscriptions: above the
  // server's default bounds, which a deployment sets to what its clients need
  // (spec/sync/security.spec.ts checks the defaults). The client's deadline is raised alike:
  // an append while 3,000 feeds connect on a loaded machine can take longer than 10 s.
  const server = await startSyncServer({ server: { maxBatch: 20_000, maxBodyBytes: 16 * 1024 * 1024, maxLiveFeedsPerUser: 5_000 } })
  const local = new MemoryCopy()
  const store = new RemoteStore({ url: server.url, token: 'token-admin', local, offline: false, callTimeoutMs: 60_000 })
  return {
    store,
    corruptSnapshot: async (actorType, streamId) => local.corruptSnapshot(actorType, streamId, '{"a": 1'),
    dispose: async () => {
      await store.close()
      await server.dispose()
    },
  }
})
