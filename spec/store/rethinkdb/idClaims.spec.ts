import { expect } from 'chai'
import { r } from 'rethinkdb-ts'
import { IdempotencyError } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import type { CommitDoc, IdClaimDoc } from '../../../lib/store/rethinkdb/documents.js'
import { collect, newEvent } from '../conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../../support/rethinkdb.js'

// White-box: event ids claimed by a commit that never appeared. A young claim means another
// writer is on its way (refused here); an old one was abandoned (taken over, and the abandoned
// commit can never land afterwards).

interface Internals {
  ready(): Promise<void>
  insertCommit(doc: CommitDoc): Promise<string>
}

;(RETHINKDB_URL ? describe : describe.skip)('RethinkStore event id claims', () => {
  let prefix = ''
  let store: RethinkStore
  const url = new URL(RETHINKDB_URL ?? 'rethinkdb://127.0.0.1:28015/x')
  const db = url.pathname.slice(1)
  const run = async <T>(query: (tables: (name: string) => ReturnType<ReturnType<typeof r.db>['table']>) => { run(c: unknown): Promise<unknown> }): Promise<T> => {
    const c = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
    try {
      return (await query((name) => r.db(db).table(`${prefix}${name}`)).run(c)) as T
    } finally {
      await c.close()
    }
  }
  const claimHeldBy = (id: string, ageS: number) =>
    run((t) => t('log').insert({ id, commit: ['s1', 1], commitId: 'held-up', at: r.now().sub(ageS) }))

  beforeEach(async () => {
    prefix = freshPrefix()
    store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    await (store as unknown as Internals).ready()
  })
  afterEach(async () => {
    await store.close()
    await dropTables(prefix)
  })

  it('should refuse an id another writer claimed a moment ago, storing nothing', async () => {
    const event = newEvent()
    await claimHeldBy(event.id, 1)
    const err = await store.append('s2', [event], { expectedVersion: 0 }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(IdempotencyError)
    expect((err as Error).message).to.include('another writer')
    expect(await store.streamVersion('s2')).to.equal(0)
    const claim = await run<IdClaimDoc>((t) => t('log').get(event.id))
    expect(claim.commitId).to.equal('held-up')
  })

  it('should take over an abandoned claim, and the abandoned commit can then never land', async () => {
    const event = newEvent()
    await claimHeldBy(event.id, 60)
    const stored = await store.append('s2', [event], { expectedVersion: 0 })
    expect(stored.events[0]!.streamId).to.equal('s2')

    // The writer that was held up tries to land its commit now: it finds its key blocked.
    const late: CommitDoc = { id: ['s1', 1], stream: 's1', from: 1, to: 1, count: 1, commitId: 'held-up', events: [{ ...event, data: '{}', meta: '{}' }], position: 1, seq: 1 }
    expect(await (store as unknown as Internals).insertCommit(late)).to.equal('unchanged')
    // Any other writer may still write that version of s1.
    const other = await store.append('s1', [newEvent()], { expectedVersion: 0 })
    expect(other.events[0]!.version).to.equal(1)

    const all = await collect(store.readAll())
    expect(all.filter((e) => e.id === event.id).map((e) => e.streamId)).to.deep.equal(['s2'])
  })
})
