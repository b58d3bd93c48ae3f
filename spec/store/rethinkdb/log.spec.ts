import { expect } from 'chai'
import { r } from 'rethinkdb-ts'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import type { CommitDoc, CommitKey, SequenceEntry } from '../../../lib/store/rethinkdb/documents.js'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// White-box: a writer that stops between the steps of an append (as a process killed with
// kill -9 would), played step by step with the store's own parts.

interface Internals {
  ready(): Promise<void>
  insertCommit(doc: CommitDoc): Promise<string>
  log: { open(token: string, commits: Array<{ key: CommitKey; count: number }>, read: unknown): Promise<{ entry: SequenceEntry | undefined }> }
}

function commitOf(entry: SequenceEntry, stream: string): CommitDoc {
  const event = newEvent()
  return {
    id: [stream, 1],
    stream,
    from: 1,
    to: 1,
    count: 1,
    commitId: event.id,
    events: [{ ...event, data: '{}', meta: '{}' }],
    position: entry.first,
    seq: entry.id,
  }
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore log: a writer gone between two steps of its append (needs RETHINKDB_URL)', function () {
  this.timeout(30_000)
  let prefix = ''
  let gone: RethinkStore
  let other: RethinkStore
  beforeEach(async () => {
    prefix = freshPrefix()
    gone = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    other = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    await (gone as unknown as Internals).ready()
    await (other as unknown as Internals).ready()
  })
  afterEach(async () => {
    await Promise.all([gone.close(), other.close()])
    await dropTables(prefix)
  })

  const openEntry = async (stream: string): Promise<SequenceEntry> => {
    const { entry } = await (gone as unknown as Internals).log.open('gone-writer', [{ key: [stream, 1], count: 1 }], r.expr(null))
    return entry!
  }

  it('should close an entry whose writer stopped before its commits, and refuse its late commit for good', async () => {
    const entry = await openEntry('s1')
    // Another process appends meanwhile: its append is answered; the head waits, then closes the entry.
    const later = await other.append('s2', [newEvent()], { expectedVersion: 0 })
    expect(later.events[0]!.position).to.be.greaterThan(entry.first)
    const all = await collect(other.readAll())
    expect(all.map((e) => e.id)).to.deep.equal(later.events.map((e) => e.id))
    expect(await other.headPosition()).to.be.at.least(later.events[0]!.position)

    // The writer comes back and sends its commit: refused, below the head it would have been a hole filled late.
    const late = commitOf(entry, 's1')
    expect(await (gone as unknown as Internals).insertCommit(late)).to.equal('unchanged')
    // That version of s1 is still free for an append in a new entry (the same events included).
    const again = await other.append('s1', [{ id: late.commitId, name: late.events[0]!.name, data: {}, schemaVersion: 1, at: late.events[0]!.at, meta: {} }], { expectedVersion: 0 })
    expect(again.events[0]!.position).to.be.greaterThan(later.events[0]!.position)
    const positions = (await collect(other.readAll())).map((e) => e.position)
    expect(positions).to.deep.equal([later.events[0]!.position, again.events[0]!.position])
  })

  it('should move the head past an entry whose writer stored its commits but stopped before the head move', async () => {
    const entry = await openEntry('s1')
    const stored = commitOf(entry, 's1')
    expect(await (gone as unknown as Internals).insertCommit(stored)).to.equal('written')
    const later = await other.append('s2', [newEvent()], { expectedVersion: 0 })
    const all = await collect(other.readAll())
    expect(all.map((e) => [e.id, e.position])).to.deep.equal([
      [stored.commitId, entry.first],
      [later.events[0]!.id, later.events[0]!.position],
    ])
  })

  it('should store a batch at once when an earlier attempt of it stopped right after claiming its ids', async () => {
    const event = newEvent()
    const url = new URL(RETHINKDB_URL!)
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      // What the stopped attempt left: its claim, young (so not abandoned for anyone else).
      await r.db(url.pathname.slice(1)).table(`${prefix}log`).insert({ id: event.id, commit: ['s1', 1], commitId: event.id, at: r.now() }).run(c)
    } finally {
      await c.close()
    }
    const stored = await other.append('s1', [event], { expectedVersion: 0 })
    expect(stored.alreadyStored).to.equal(false)
    expect((await collect(other.readStream('s1'))).map((e) => e.id)).to.deep.equal([event.id])
  })
})
