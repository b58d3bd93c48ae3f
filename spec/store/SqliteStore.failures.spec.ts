import { join } from 'node:path'
import { expect } from 'chai'
import Database from 'better-sqlite3'
import { SqliteStore, StorageError, type NewEvent } from 'omniscient-actors'
import { tempDir } from '../support/tmp.js'
import { collect, newEvent } from './conformance.js'

// What the engine itself refuses (a lock held too long, a full disk) reaches each append of a
// group as a StorageError with a code, never as better-sqlite3's raw error, and never answers an
// append as stored when it is not.

describe('SqliteStore when SQLite fails under a group commit', () => {
  let tmp: ReturnType<typeof tempDir>
  let file: string
  let store: SqliteStore

  beforeEach(() => {
    tmp = tempDir()
    file = join(tmp.dir, 'store.db')
    store = new SqliteStore({ file, busyTimeoutMs: 50 })
  })
  afterEach(async () => {
    await store.close()
    tmp.remove()
  })

  it('should reject each append of a group with STORAGE_BUSY while another process holds the write lock', async () => {
    const other = new Database(file)
    other.prepare('BEGIN IMMEDIATE').run()
    try {
      const outcomes = await Promise.allSettled([
        store.append('a', [newEvent()], { expectedVersion: 0 }),
        store.append('b', [newEvent()], { expectedVersion: 0 }),
        store.append('c', [newEvent()], { expectedVersion: 0 }),
      ])
      for (const outcome of outcomes) {
        expect(outcome.status).to.equal('rejected')
        const reason = (outcome as PromiseRejectedResult).reason as unknown
        expect(reason).to.be.instanceOf(StorageError).and.to.have.property('code', 'STORAGE_BUSY')
        expect((reason as Error).message).to.match(/SQLite failed/)
      }
    } finally {
      other.prepare('ROLLBACK').run()
      other.close()
    }
    await store.append('a', [newEvent()], { expectedVersion: 0 })
    expect(await store.headPosition()).to.equal(1)
  })

  it('should answer each append of a group on a full disk as stored (and readable) or refused with STORAGE_FULL', async () => {
    await store.append('warm', [newEvent()], { expectedVersion: 0 })
    // The store's own connection: a page limit stands in for a disk that has no room left.
    const db = (store as unknown as { db: Database.Database }).db
    const pages = db.pragma('page_count', { simple: true }) as number
    db.pragma(`max_page_count = ${pages + 2}`)
    const big = (i: number): NewEvent => newEvent('big', { blob: 'x'.repeat(64 * 1024), i })
    const sent = [
      { stream: 'small-1', events: [newEvent()] },
      { stream: 'big-1', events: [big(1)] },
      { stream: 'small-2', events: [newEvent()] },
      { stream: 'big-2', events: [big(2), big(3)] },
    ]
    const outcomes = await Promise.allSettled(sent.map((s) => store.append(s.stream, s.events, { expectedVersion: 0 })))
    expect(outcomes.filter((o) => o.status === 'rejected')).to.not.have.length(0)
    for (const [i, outcome] of outcomes.entries()) {
      const stored = await collect(store.readStream(sent[i]!.stream))
      if (outcome.status === 'fulfilled') {
        expect(stored.map((e) => e.id)).to.deep.equal(sent[i]!.events.map((e) => e.id))
      } else {
        expect(outcome.reason).to.be.instanceOf(StorageError).and.to.have.property('code', 'STORAGE_FULL')
        expect(stored).to.deep.equal([])
      }
    }
  })
})
