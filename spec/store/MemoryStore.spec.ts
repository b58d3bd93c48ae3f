import { MemoryStore } from 'omniscient-actors'
import { describeStorageContract } from './conformance.js'

describeStorageContract('MemoryStore', async () => {
  const store = new MemoryStore()
  return {
    store,
    corruptSnapshot: async (actorType, streamId) => store.corruptSnapshot(actorType, streamId, '{"state": {tru'),
    dispose: () => store.close(),
  }
})
