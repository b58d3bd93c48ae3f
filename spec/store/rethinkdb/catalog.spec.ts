import { expect } from 'chai'
import { r, type Connection } from 'rethinkdb-ts'
import type { StreamInfo } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// RethinkStore's listStreams walks the commits table's index itself, so what the log shows
// (readAll: real commits at or below the head) is what it must list, whatever else lies there.

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore listStreams: what the log shows (needs RETHINKDB_URL)', function () {
  this.timeout(60_000)
  let prefix = ''
  let store: RethinkStore
  let c: Connection
  const url = new URL(RETHINKDB_URL ?? 'rethinkdb://127.0.0.1')
  const commits = () => r.db(url.pathname.slice(1)).table(`${prefix}commits`)

  beforeEach(async () => {
    prefix = freshPrefix()
    store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
  })
  afterEach(async () => {
    await store.close()
    await c.close()
    await dropTables(prefix)
  })

  /** Every stream as the fallback of a tool would list it, from readAll. */
  async function fromTheLog(): Promise<StreamInfo[]> {
    const byId = new Map<string, StreamInfo>()
    for (const e of await collect(store.readAll())) byId.set(e.streamId, { streamId: e.streamId, version: e.version, lastPosition: e.position, lastAt: e.at })
    return [...byId.values()].sort((a, b) => (a.streamId < b.streamId ? -1 : 1))
  }

  it('should list no stream for a tombstone, and keep the version of the last real commit', async () => {
    await store.append('a', [newEvent(), newEvent()], { expectedVersion: 0 })
    // Tombstones as fencing and abandoned ids lay them: at a stream's next version, or alone.
    await commits().insert([{ id: ['a', 3], tombstone: true, term: 2 }, { id: ['ghost', 1], tombstone: true, term: 1, blocked: ['x'] }]).run(c)
    const listed = await store.listStreams()
    expect(listed.map((s) => [s.streamId, s.version])).to.deep.equal([['a', 2]])
    expect(listed).to.deep.equal(await fromTheLog())
  })

  it('should not list a commit past the head until the head reaches it', async () => {
    const a = await store.append('a', [newEvent()], { expectedVersion: 0 })
    const head = await store.headPosition()
    const event = { ...newEvent(), data: '{}', meta: '{}' }
    // A writer's commit whose log entry is not finished yet: stored, not yet in the log.
    const ahead = (stream: string, version: number) => ({ id: [stream, version], stream, from: version, to: version, count: 1, commitId: `${stream}-${version}`, events: [event], position: head + 1_000, seq: 1_000 })
    await commits().insert([ahead('a', 2), ahead('b', 1)]).run(c)
    const listed = await store.listStreams()
    expect(listed).to.deep.equal([{ streamId: 'a', version: 1, lastPosition: a.events[0]!.position, lastAt: a.events[0]!.at }])
    expect(listed).to.deep.equal(await fromTheLog())
  })

  it('should page through many streams with a filter that skips most of them, as readAll shows them', async function () {
    // More streams than one round trip looks at (500), most not matching the filter.
    const ids = Array.from({ length: 1_300 }, (_, i) => `s-${String(i).padStart(4, '0')}${i % 97 === 5 ? '-match' : ''}`)
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => store.append(id, [newEvent()], { expectedVersion: 0 })))
    await store.append('s-0005-match', [newEvent(), newEvent()], { expectedVersion: 1 })
    const all = await fromTheLog()
    const matching = all.filter((s) => s.streamId.includes('match'))
    expect(matching).to.have.length(14)
    expect(await store.listStreams({ contains: 'match', limit: 10_000 })).to.deep.equal(matching)
    const pages: StreamInfo[][] = []
    for (let after: string | undefined; ; ) {
      const page = await store.listStreams({ contains: 'match', limit: 5, ...(after === undefined ? {} : { after }) })
      if (page.length === 0) break
      pages.push([...page])
      after = page.at(-1)!.streamId
    }
    expect(pages.map((p) => p.length)).to.deep.equal([5, 5, 4])
    expect(pages.flat()).to.deep.equal(matching)
    expect(await store.listStreams({ limit: 10_000 })).to.deep.equal(all)
    expect(await store.listStreams({ after: 's-0649', limit: 3 })).to.deep.equal(all.slice(650, 653))
  })
})
