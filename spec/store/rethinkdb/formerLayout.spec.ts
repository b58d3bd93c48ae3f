import { expect } from 'chai'
import { r } from 'rethinkdb-ts'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import type { CommitDoc } from '../../../lib/store/rethinkdb/documents.js'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// Tables of the earlier layout (head in `meta`, log entries in `sequence`, id claims in `ids`)
// are moved into `log` when a store of this release opens them.

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore on tables of the earlier layout (needs RETHINKDB_URL)', function () {
  this.timeout(30_000)
  let prefix = ''
  const url = new URL(RETHINKDB_URL ?? 'rethinkdb://127.0.0.1')
  const db = url.pathname.slice(1) || 'omniscient'
  const first = newEvent()
  const second = newEvent()

  /** What a store of the earlier release left: one commit of two events in entry 1, behind the head. */
  async function writeFormerLayout(): Promise<void> {
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      if (!(await r.dbList().run(c)).includes(db)) await r.dbCreate(db).run(c)
      for (const name of ['commits', 'sequence', 'meta', 'ids']) await r.db(db).tableCreate(prefix + name).run(c)
      const t = (name: string) => r.db(db).table(prefix + name)
      const commit: CommitDoc = {
        id: ['s1', 1],
        stream: 's1',
        from: 1,
        to: 2,
        count: 2,
        commitId: first.id,
        events: [first, second].map((e) => ({ ...e, data: JSON.stringify(e.data), meta: JSON.stringify(e.meta) })),
        position: 1,
        seq: 1,
      }
      await t('commits').insert(commit).run(c)
      await t('sequence').insert({ id: 1, first: 1, count: 2, token: 'earlier', commits: [{ key: ['s1', 1], offset: 0 }], at: r.now() }).run(c)
      await t('meta').insert({ id: 'head', seq: 1, position: 2 }).run(c)
      await t('ids').insert([first, second].map((e) => ({ id: e.id, commit: ['s1', 1], commitId: first.id, at: r.now() }))).run(c)
    } finally {
      await c.close()
    }
  }

  async function tableNames(): Promise<string[]> {
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      const names = await r.db(db).tableList().run(c)
      return names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)).sort()
    } finally {
      await c.close()
    }
  }

  beforeEach(async () => {
    prefix = freshPrefix()
    await writeFormerLayout()
  })
  afterEach(() => dropTables(prefix))

  it('should keep every event, position and id claim, and drop the former tables', async () => {
    const store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    try {
      expect((await collect(store.readAll())).map((e) => [e.id, e.position])).to.deep.equal([
        [first.id, 1],
        [second.id, 2],
      ])
      // The claims came along: the same batch again is answered from the store.
      const again = await store.append('s1', [first, second], { expectedVersion: 0 })
      expect(again.alreadyStored).to.equal(true)
      // The head and entries came along: the next append follows position 2 (the retry above
      // opened an entry too, whose positions stay unused).
      const next = await store.append('s1', [newEvent()], { expectedVersion: 2 })
      expect(next.events[0]!.position).to.be.greaterThan(2)
      expect((await collect(store.readAll())).map((e) => e.position)).to.deep.equal([1, 2, next.events[0]!.position])
      expect(await tableNames()).to.deep.equal(['checkpoints', 'commits', 'leases', 'log', 'snapshots'])
    } finally {
      await store.close()
    }
  })

  it('should leave a claim already in log as it is when a late process copies the former ids', async () => {
    const store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    await store.headPosition() // moves the former layout into log
    await store.close()
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      const t = (name: string) => r.db(db).table(prefix + name)
      // A process of this release took the claim over; a slower one still has the former
      // \`ids\` table (as it listed it) and copies it now.
      const takenOver = { commit: ['s2', 1], commitId: 'other', attempt: 'taken-over' }
      await t('log').get(first.id).update(takenOver).run(c)
      await r.db(db).tableCreate(prefix + 'ids').run(c)
      await t('ids').insert({ id: first.id, commit: ['s1', 1], commitId: first.id, at: r.now() }).run(c)
      const late = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
      try {
        await late.headPosition()
      } finally {
        await late.close()
      }
      expect(await t('log').get(first.id).pluck('commit', 'commitId', 'attempt').run(c)).to.deep.equal(takenOver)
      expect(await tableNames()).to.deep.equal(['checkpoints', 'commits', 'leases', 'log', 'snapshots'])
    } finally {
      await c.close()
    }
  })

  it('should move them once when several processes open the store at the same time', async () => {
    const stores = Array.from({ length: 3 }, () => new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix }))
    try {
      const appended = await Promise.all(stores.map((s, i) => s.append(`other-${i}`, [newEvent()], { expectedVersion: 0 })))
      const positions = appended.map((a) => a.events[0]!.position).sort((a, b) => a - b)
      expect(positions).to.deep.equal([3, 4, 5])
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
    const reader = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    try {
      expect((await collect(reader.readAll())).map((e) => e.position)).to.deep.equal([1, 2, 3, 4, 5])
      expect(await tableNames()).to.deep.equal(['checkpoints', 'commits', 'leases', 'log', 'snapshots'])
    } finally {
      await reader.close()
    }
  })
})
