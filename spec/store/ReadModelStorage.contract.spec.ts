import { join } from 'node:path'
import { MemoryStore, SqliteStore } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../support/rethinkdb.js'
import { tempDir } from '../support/tmp.js'
import { describeReadModelStorageContract } from './readModelConformance.js'

describeReadModelStorageContract('MemoryStore', async () => {
  const store = new MemoryStore()
  return { store, dispose: () => store.close() }
})

describeReadModelStorageContract('SqliteStore', async () => {
  const tmp = tempDir()
  const store = new SqliteStore({ file: join(tmp.dir, 'store.db') })
  return {
    store,
    dispose: async () => {
      await store.close()
      tmp.remove()
    },
  }
})

const pgUrl = PG_URL
if (pgUrl) {
  describeReadModelStorageContract('PgStore', async () => {
    const schema = freshSchema()
    const store = new PgStore({ connectionString: pgUrl, schema })
    return {
      store,
      dispose: async () => {
        await store.close()
        await dropSchema(schema)
      },
    }
  })
} else {
  describe('ReadModelStorage contract: PgStore', () => {
    it.skip('runs with a PostgreSQL server: npm run test:pg (CI does)')
  })
}

const rethinkUrl = RETHINKDB_URL
if (rethinkUrl) {
  describeReadModelStorageContract('RethinkStore', async () => {
    const tablePrefix = freshPrefix()
    const store = new RethinkStore({ url: rethinkUrl, tablePrefix, leaseClock: 'caller' })
    return {
      store,
      dispose: async () => {
        await store.close()
        await dropTables(tablePrefix)
      },
    }
  })
} else {
  describe('ReadModelStorage contract: RethinkStore', () => {
    it.skip('runs with a RethinkDB server: RETHINKDB_URL=rethinkdb://127.0.0.1:28015/omniscient_test npm run test:rethink')
  })
}
