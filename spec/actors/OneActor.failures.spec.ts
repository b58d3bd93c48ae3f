import { join } from 'node:path'
import { expect } from 'chai'
import {
  ManualClock,
  MemoryStore,
  ProposalRejectedError,
  SqliteStore,
  StorageError,
  createContainer,
  type StorageAdapter,
} from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { SyncTimeoutError, SyncUnavailableError } from 'omniscient-actors/sync'
import { PG_URL, dropSchema, freshSchema } from '../support/postgres.js'
import { tempDir } from '../support/tmp.js'
import { collect } from '../store/conformance.js'
import { Stock as BaseStock } from '../support/Stock.js'

// The same actor with a lease that never runs out during a spec: the leader stays leader.
class Stock extends BaseStock {
  static override leaseMs = 60_000
  static override renewEveryMs = 15_000
}

/**
 * Makes the next `count` appends to `streamId` fail with a StorageError of `code` (or the error
 * `failure` makes): before reaching the store, or (`landed`) after it stored them, as when the
 * answer is lost.
 */
function failNextAppends(store: StorageAdapter, streamId: string, count: number, code: string, landed = false, failure: () => Error = () => new StorageError(`injected: ${code}`, { code })): void {
  const append = store.append.bind(store)
  let left = count
  store.append = async (id, events, options) => {
    if (id !== streamId || left <= 0) return append(id, events, options)
    left--
    if (landed) await append(id, events, options)
    throw failure()
  }
}

const engines: Array<{ name: string; open: () => Promise<{ store: StorageAdapter; dispose: () => Promise<void> }> }> = [
  { name: 'MemoryStore', open: async () => ({ store: new MemoryStore(), dispose: async () => {} }) },
  {
    name: 'SqliteStore',
    open: async () => {
      const tmp = tempDir()
      return { store: new SqliteStore({ file: join(tmp.dir, 'one.db') }), dispose: async () => tmp.remove() }
    },
  },
  ...(PG_URL
    ? [
        {
          name: 'PgStore',
          open: async () => {
            const schema = freshSchema()
            return { store: new PgStore({ connectionString: PG_URL!, schema }) as StorageAdapter, dispose: () => dropSchema(schema) }
          },
        },
      ]
    : []),
]

for (const engine of engines) describe(`OneActor when the store fails for a while, on ${engine.name}`, function () {
  this.timeout(20_000)
  let store: StorageAdapter
  let dispose: () => Promise<void>
  let reported: unknown[]
  let leader: Stock
  let follower: Stock
  beforeEach(async () => {
    ;({ store, dispose } = await engine.open())
    reported = []
    const clock = new ManualClock(0)
    leader = await new Stock('sku', createContainer({ store, clock, report: (err) => reported.push(err) })).Load()
    follower = await new Stock('sku', createContainer({ store, clock, report: () => {} })).Load()
    expect([leader.IsLeader, follower.IsLeader]).to.deep.equal([true, false])
    await leader.Fire('received', { qty: 1 })
  })
  afterEach(async () => {
    await Promise.all([leader.Stop(), follower.Stop()])
    await store.close()
    await dispose()
  })

  /** The rejections stored, once the leader has handled every proposal (its checkpoint is past them). */
  const rejections = async () => {
    const proposals = await collect(store.readStream('__proposals/Stock/sku'))
    const last = proposals.filter((e) => e.name === 'proposed').at(-1)!.position
    for (let waited = 0; ((await store.loadCheckpoint('__proposals/Stock/sku/handled')) ?? 0) < last; waited += 5) {
      if (waited > 5_000) throw new Error('the leader never finished handling the proposals')
      await new Promise((r) => setTimeout(r, 5))
    }
    return (await collect(store.readStream('__proposals/Stock/sku'))).filter((e) => e.name === 'rejected')
  }

  it("should retry a follower's proposal through a passing failure, never reject it", async () => {
    failNextAppends(store, 'sku', 3, 'STORAGE_UNAVAILABLE')
    const sold = await follower.Fire('sold', { qty: 1, to: 'bob' })
    expect(sold).to.include({ name: 'sold', version: 2 })
    expect(await rejections()).to.deep.equal([])
    expect((await collect(store.readStream('sku'))).map((e) => e.name)).to.deep.equal(['received', 'sold'])
    // Reported once for the run, then its end with the count.
    expect(reported.filter((e) => e instanceof StorageError)).to.have.length(1)
    expect(reported.at(-1)).to.include({ code: 'OUTAGE', failures: 3 })
  })

  it("should retry through a sync server's failures too (unreachable, past its deadline), never reject", async () => {
    const url = 'https://sync.example'
    const failures = [new SyncUnavailableError(url, new Error('connect ECONNREFUSED')), new SyncTimeoutError(url, 'POST /streams/sku/events', 10_000, 'STORAGE_UNAVAILABLE')]
    failNextAppends(store, 'sku', failures.length, '', false, () => failures.shift()!)
    const sold = await follower.Fire('sold', { qty: 1, to: 'bob' })
    expect(sold).to.include({ name: 'sold', version: 2 })
    expect(await rejections()).to.deep.equal([])
    expect(reported.at(-1)).to.include({ code: 'OUTAGE', failures: 2 })
  })

  it('should read the id back after an indeterminate commit that did land: answered, never rejected, stored once', async () => {
    // The handler would refuse the event applied twice (only 1 in stock).
    failNextAppends(store, 'sku', 1, 'STORAGE_INDETERMINATE', true)
    const sold = await follower.Fire('sold', { qty: 1, to: 'bob' })
    expect(sold).to.include({ name: 'sold', version: 2 })
    expect(await rejections()).to.deep.equal([])
    expect((await collect(store.readStream('sku'))).map((e) => e.name)).to.deep.equal(['received', 'sold'])
    await follower.Idle()
    expect(follower._state.left).to.equal(0)
  })

  it('should handle a proposal sent again with the same id after a rejection, not answer it as handled', async () => {
    const first = await follower.Fire('sold', { qty: 2, to: 'bob' }, { id: 'order-7' }).then(() => undefined, (e: unknown) => e)
    expect(first).to.be.instanceOf(ProposalRejectedError)
    await leader.Fire('received', { qty: 1 })
    const again = await follower.Fire('sold', { qty: 2, to: 'bob' }, { id: 'order-7' })
    expect(again).to.include({ id: 'order-7', version: 3 })
    // Sent a third time, it is answered with the stored event, not stored twice.
    expect(await follower.Fire('sold', { qty: 2, to: 'bob' }, { id: 'order-7' })).to.deep.include({ id: 'order-7', version: 3 })
    expect(await store.streamVersion('sku')).to.equal(3)
  })
})
