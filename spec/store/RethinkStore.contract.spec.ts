import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { corruptSnapshot, dropTables, freshPrefix, RETHINKDB_URL } from '../support/rethinkdb.js'
import { describeStoreCatalog } from './storeCatalog.js'
import { describeStorageContract, type AdapterHarness } from './conformance.js'
import { describeReadModelStorageContract } from './readModelConformance.js'

const url = RETHINKDB_URL
if (url) {
  const harness = async (): Promise<AdapterHarness> => {
    const tablePrefix = freshPrefix()
    // The shared suite drives lease time itself (now = 0, 500, 1000...): the caller's clock.
    const store = new RethinkStore({ url, tablePrefix, leaseClock: 'caller' })
    return {
      store,
      corruptSnapshot: (actorType, streamId) => corruptSnapshot(tablePrefix, actorType, streamId),
      dispose: async () => {
        await store.close()
        await dropTables(tablePrefix)
      },
    }
  }
  describeStorageContract('RethinkStore', harness)
  describeReadModelStorageContract('RethinkStore', harness)
  describeStoreCatalog('RethinkStore', harness)
} else {
  describe('StorageAdapter and ReadModelStorage contracts: RethinkStore', () => {
    it.skip('runs with a RethinkDB server: RETHINKDB_URL=rethinkdb://127.0.0.1:28015/omniscient_test npm run test:rethink')
  })
}
