import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL, sql } from '../support/postgres.js'
import { describeStorageContract } from './conformance.js'

const url = PG_URL
if (url) {
  describeStorageContract('PgStore', async () => {
    const schema = freshSchema()
    const store = new PgStore({ connectionString: url, schema })
    return {
      store,
      corruptSnapshot: (actorType, streamId) =>
        sql(`UPDATE "${schema}".snapshots SET state = '{"a": 1' WHERE actor_type = $1 AND stream_id = $2`, [actorType, streamId]),
      dispose: async () => {
        await store.close()
        await dropSchema(schema)
      },
    }
  })
} else {
  describe('StorageAdapter contract: PgStore', () => {
    it.skip('runs with a PostgreSQL server: npm run test:pg (CI does)')
  })
}
