import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteStore } from 'omniscient-actors'
import { tempDir } from '../support/tmp.js'
import { describeStoreCatalog } from './storeCatalog.js'
import { describeStorageContract, type AdapterHarness } from './conformance.js'
import { describeReadModelStorageContract } from './readModelConformance.js'

const harness = async (): Promise<AdapterHarness> => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'store.db')
  const store = new SqliteStore({ file })
  return {
    store,
    corruptSnapshot: async (actorType, streamId) => {
      const raw = new Database(file)
      raw.prepare("UPDATE snapshots SET state = '{\"a\": 1' WHERE actor_type = ? AND stream_id = ?").run(actorType, streamId)
      raw.close()
    },
    dispose: async () => {
      await store.close()
      tmp.remove()
    },
  }
}

describeStorageContract('SqliteStore', harness)
describeStoreCatalog('SqliteStore', harness)
describeReadModelStorageContract('SqliteStore', harness)
