import { MemoryStore } from 'omniscient-actors'
import { describeStoreCatalog } from './storeCatalog.js'
import { describeStorageContract, type AdapterHarness } from './conformance.js'
import { describeReadModelStorageContract } from './readModelConformance.js'

const harness = async (): Promise<AdapterHarness> => {
  const store = new MemoryStore()
  return {
    store,
    corruptSnapshot: async (actorType, streamId) => store.corruptSnapshot(actorType, streamId, '{"state": {tru'),
    dispose: () => store.close(),
  }
}

describeStorageContract('MemoryStore', harness)
describeStoreCatalog('MemoryStore', harness)
describeReadModelStorageContract('MemoryStore', harness)
