import { expect } from 'chai'
import { isOmniscientError } from 'omniscient-actors'
import type { Connection } from 'rethinkdb-ts'
import { RethinkConnection, type Runnable } from '../../../lib/store/rethinkdb/RethinkConnection.js'

/** A connection whose queries never answer, as over a silent link; it records being closed. */
function silentConnection(): { connection: Connection; closed: () => boolean } {
  let closed = false
  const connection = {
    open: true,
    close: async () => void (closed = true),
    removeAllListeners: () => connection,
    on: () => connection,
  }
  return { connection: connection as unknown as Connection, closed: () => closed }
}

const never: Runnable = { run: () => new Promise<never>(() => {}) }

/** A RethinkConnection whose open connection is `connection` (no server needed). */
function over(connection: Connection, callTimeoutMs: number): RethinkConnection {
  const db = new RethinkConnection({ host: '127.0.0.1', port: 1, db: 'x' }, { callTimeoutMs })
  Object.assign(db, { connection })
  return db
}

async function failure(call: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = Date.now()
  try {
    await call
  } catch (err) {
    return { code: isOmniscientError(err) ? err.code : String(err), ms: Date.now() - started }
  }
  throw new Error('the call should have failed')
}

describe('RethinkConnection call deadline (callTimeoutMs), without a server', () => {
  it('should fail a read with no answer with STORAGE_UNAVAILABLE at its deadline and close its connection', async () => {
    const silent = silentConnection()
    const db = over(silent.connection, 150)
    const read = await failure(db.read(never, 'read a page'))
    expect(read.code).to.equal('STORAGE_UNAVAILABLE')
    expect(read.ms).to.be.within(140, 1_000)
    expect(silent.closed(), 'the silent connection is closed, never reused').to.equal(true)
  })

  it('should fail a write with no answer with STORAGE_INDETERMINATE: it may have been applied', async () => {
    const db = over(silentConnection().connection, 150)
    expect((await failure(db.write(never, 'append'))).code).to.equal('STORAGE_INDETERMINATE')
  })

  it('should leave set-up queries (tables, indexes, replicas) without a deadline', async () => {
    const db = over(silentConnection().connection, 50)
    let settled = false
    void db.read(never, 'wait for tables', 'set-up').finally(() => (settled = true))
    await new Promise((r) => setTimeout(r, 200))
    expect(settled).to.equal(false)
  })
})
