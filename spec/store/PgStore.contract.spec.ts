import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL, sql } from '../support/postgres.js'
import { extraVariants } from '../support/variants.js'
import { describeStoreCatalog } from './storeCatalog.js'
import { describeStorageContract, type AdapterHarness } from './conformance.js'
import { describeReadModelStorageContract } from './readModelConformance.js'

const url = PG_URL
if (url) {
  // With appends as prepared statements (the default); as behind a pooler that keeps none with
  // SPEC_VARIANTS=extra (npm run test:faults).
  for (const preparedStatements of [!extraVariants]) {
    const harness = async (): Promise<AdapterHarness> => {
      const schema = freshSchema()
      const store = new PgStore({ connectionString: url, schema, preparedStatements })
      return {
        store,
        corruptSnapshot: (actorType, streamId) =>
          sql(`UPDATE "${schema}".snapshots SET state = '{"a": 1' WHERE actor_type = $1 AND stream_id = $2`, [actorType, streamId]),
        dispose: async () => {
          await store.close()
          await dropSchema(schema)
        },
      }
    }
    describeStorageContract(preparedStatements ? 'PgStore' : 'PgStore without prepared statements', harness)
    if (preparedStatements) {
      describeStoreCatalog('PgStore', harness)
      describeReadModelStorageContract('PgStore', harness)
    }
  }
} else {
  describe('StorageAdapter and ReadModelStorage contracts: PgStore', () => {
    it.skip('runs with a PostgreSQL server: npm run test:pg (CI does)')
  })
}
