import { expect } from 'chai'
import { r } from 'rethinkdb-ts'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import type { CommitDoc, SequenceEntry } from '../../../lib/store/rethinkdb/documents.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// White-box: the sequencer's claims when its view is stale. Another process may place a
// commit between this sequencer's read and its write; a later commit of the same stream,
// claimed in the same write on the assumption that its predecessor got the lower position,
// must then stay unplaced rather than land before its predecessor.

interface Internals {
  ready(): Promise<void>
  db: { write(query: unknown, what: string): Promise<unknown> }
  t: { commits: { insert(docs: unknown): unknown; get(key: unknown): { run(c: unknown): unknown } } }
  sequencer: { finishEntries(entries: SequenceEntry[], known: { commits: unknown[]; predecessors: unknown[] }): Promise<Map<string, { position?: number }>> }
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore sequencer', () => {
  let prefix = ''
  let store: RethinkStore
  beforeEach(() => {
    prefix = freshPrefix()
    store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
  })
  afterEach(async () => {
    await store.close()
    await dropTables(prefix)
  })

  it('should not place a commit before its predecessor when another process placed that one later', async () => {
    const inside = store as unknown as Internals
    await inside.ready()
    const commit = (from: number, extra: Partial<CommitDoc>): CommitDoc => ({
      id: ['s', from], stream: 's', from, to: from, count: 1, commitId: `e${from}`, events: [], ...extra,
    })
    // P was placed at 20 by someone else; S still waits.
    await inside.db.write(inside.t.commits.insert([commit(1, { position: 20, seq: 9 }), commit(2, { pending: 1 })]), 'set up')
    const entry: SequenceEntry = { id: 1, first: 10, count: 2, commits: [{ key: ['s', 1], first: 10 }, { key: ['s', 2], first: 11 }] }
    // This sequencer still believes P is pending (what its snapshot read a moment ago).
    const stale = { commits: [{ id: ['s', 1], stream: 's', from: 1, count: 1 }, { id: ['s', 2], stream: 's', from: 2, count: 1 }], predecessors: [] }
    const views = await inside.sequencer.finishEntries([entry], stale)

    expect(views.get('s\u00001')?.position).to.equal(20)
    expect(views.get('s\u00002')?.position).to.equal(undefined)
    const url = new URL(RETHINKDB_URL!)
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      const s = (await r.db(url.pathname.slice(1)).table(`${prefix}commits`).get(['s', 2]).run(c)) as CommitDoc
      expect(s.position).to.equal(undefined)
      expect(s.pending).to.equal(1)
    } finally {
      await c.close()
    }
  })
})
