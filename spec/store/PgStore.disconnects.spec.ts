import { expect } from 'chai'
import pg from 'pg'
import { isOmniscientError } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'

const url = PG_URL

/** Ends another session from the server side, as an administrator or a server timeout does. */
async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
  } finally {
    await admin.end()
  }
}

/**
 * A pg Client whose session the server ends right after a statement matching `at` is answered,
 * while the caller holds it idle inside its transaction: the disconnect arrives with no
 * statement running, as it does for a process paused (SIGSTOP) mid-transaction whose server
 * ended the session meanwhile. `how` says which way the server ends it.
 */
function clientEndedAfter(at: RegExp, how: 'idle timeout' | 'terminate', ended: number[]): new () => pg.Client {
  return class EndedClient extends pg.Client {
    override query(...args: unknown[]): never {
      const text = typeof args[0] === 'string' ? args[0] : ''
      const answer = (super.query as (...a: unknown[]) => Promise<unknown>).apply(this, args)
      if (!at.test(text)) return answer as never
      return (async () => {
        const result = await answer
        const gone = new Promise((resolve) => this.once('end', resolve))
        if (how === 'terminate') await terminate((this as unknown as { processID: number }).processID)
        else await super.query("SET LOCAL idle_in_transaction_session_timeout = '100ms'")
        // Idle in the transaction, no statement running, until the server has ended the session.
        await gone
        ended.push(Date.now())
        return result
      })() as never
    }
  }
}

if (url) {
  describe('PgStore when the server ends a session it has checked out', function () {
    this.timeout(20_000)
    let schema: string
    let stores: PgStore[] = []
    const open = (Client: new () => pg.Client, reported: unknown[] = []) => {
      const store = new PgStore({ connectionString: url, schema, pool: { Client }, onError: (e) => reported.push(e) })
      stores.push(store)
      return store
    }

    beforeEach(() => {
      schema = freshSchema()
      stores = []
    })

    afterEach(async () => {
      await Promise.all(stores.map((s) => s.close()))
      await dropSchema(schema)
    })

    it('should fail a lease call whose session hit idle_in_transaction_session_timeout, not crash, and not reuse it', async () => {
      const ended: number[] = []
      const store = open(clientEndedAfter(/FOR UPDATE/, 'idle timeout', ended))
      await store.readLease('warm-up')
      const failed = await store.acquireLease('one/L/1', 'me', 2_000, Date.now()).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(ended, 'the server ended the session mid-transaction').to.have.length(1)
      expect(isOmniscientError(failed) && failed.code).to.equal('STORAGE_UNAVAILABLE')
      // Nothing was committed; the next calls get a working connection.
      expect(await store.readLease('one/L/1')).to.equal(undefined)
      for (let i = 0; i < 3; i++) expect(await store.streamVersion('s')).to.equal(0)
    })

    it('should fail a read model commit whose session was terminated mid-transaction, and not crash', async () => {
      const ended: number[] = []
      const store = open(clientEndedAfter(/^SELECT checkpoint FROM .* FOR UPDATE/, 'terminate', ended))
      const storage = store.readModels()
      await storage.info('m')
      const batch = { model: 'm', version: 1, from: 0, to: 1, activate: true, writes: [{ key: 'k', doc: { n: 1 }, index: {}, position: 1 }] }
      const failed = await storage.commit(batch).then(
        () => undefined,
        (err: unknown) => err,
      )
      expect(ended).to.have.length(1)
      expect(isOmniscientError(failed)).to.equal(true)
      expect(await storage.info('m')).to.deep.equal({ active: undefined, versions: [] })
    })

    it('should not crash when the session ends after the call settled, before the client is given back', async () => {
      const ended: number[] = []
      // The whole call is one statement: the session is gone before the call returns.
      const store = open(clientEndedAfter(/^SELECT max\(version\) AS v FROM \S+\.events/, 'terminate', ended))
      expect(await store.streamVersion('s')).to.equal(0)
      expect(ended).to.have.length(1)
      expect(await store.headPosition()).to.equal(0)
    })
  })
}
