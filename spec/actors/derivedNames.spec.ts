import { expect } from 'chai'
import {
  MemoryStore,
  createContainer,
  type AppendOptions,
  type AppendResult,
  type LeaseState,
  type NewEvent,
} from 'omniscient-actors'
import { checkIdentifier } from '../../lib/store/kit/arguments.js'
import { derivedName } from '../../actors/derivedNames.js'
import { Stock } from '../support/Stock.js'
import { Tally } from '../support/Tally.js'

const LIMIT = 80

/** A MemoryStore that, like RethinkStore, takes names of at most 80 bytes, and records them. */
class ShortKeyStore extends MemoryStore {
  readonly maxIdBytes = LIMIT
  readonly names = new Set<string>()
  private short(name: string): void {
    this.names.add(name)
    checkIdentifier(name, 'name', LIMIT)
  }
  override async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.short(streamId)
    if (options.lease) this.short(options.lease.name)
    return super.append(streamId, events, options)
  }
  override async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<LeaseState> {
    this.short(name)
    return super.acquireLease(name, owner, ttlMs, now)
  }
  override async renewLease(name: string, owner: string, term: number, ttlMs: number, now: number): Promise<LeaseState> {
    this.short(name)
    return super.renewLease(name, owner, term, ttlMs, now)
  }
  override async readLease(name: string): Promise<LeaseState | undefined> {
    this.short(name)
    return super.readLease(name)
  }
  override async saveCheckpoint(name: string, position: number): Promise<void> {
    this.short(name)
    return super.saveCheckpoint(name, position)
  }
  override async loadCheckpoint(name: string): Promise<number | undefined> {
    this.short(name)
    return super.loadCheckpoint(name)
  }
}

describe('Names derived for an actor (leases, proposals, checkpoints)', () => {
  it('should keep a name that fits the store as it reads, and hash one that does not, the same every time', () => {
    const store = new ShortKeyStore()
    expect(derivedName(store, 'one', 'Stock', 'sku-1')).to.equal('one/Stock/sku-1')
    const id = 'x'.repeat(75)
    const long = derivedName(store, '__proposals', 'Stock', id, '/handled')
    expect(long).to.match(/^__proposals\/#[A-Za-z0-9_-]{43}$/)
    expect(derivedName(store, '__proposals', 'Stock', id, '/handled')).to.equal(long)
    expect(derivedName(store, '__proposals', 'Stock', id)).to.not.equal(long)
    expect(derivedName(store, '__proposals', 'Stock', 'y'.repeat(75), '/handled')).to.not.equal(long)
    // A store without a limit of its own takes MAX_ID_BYTES (256): the same id keeps its name.
    expect(derivedName(new MemoryStore(), '__proposals', 'Stock', id, '/handled')).to.equal(`__proposals/Stock/${id}/handled`)
  })

  it('should elect, fire and propose for a OneActor whose id fits the store but whose lease name would not', async () => {
    const store = new ShortKeyStore()
    const id = 'sku-'.padEnd(76, 'x') // fits; `one/Stock/${id}` does not

    const leader = await new Stock(id, createContainer({ store })).Load()
    const follower = await new Stock(id, createContainer({ store })).Load()
    try {
      await leader.Fire('received', { qty: 5 })
      await follower.Fire('sold', { qty: 2, to: 'ann' }) // a proposal, handled by the leader
      await leader.Fire('sold', { qty: 1, to: 'bob' })
      expect(leader._state.left).to.equal(2)
      expect([...store.names].every((name) => new TextEncoder().encode(name).length <= LIMIT)).to.equal(true)
      expect([...store.names].some((name) => name.startsWith('one/#'))).to.equal(true)
    } finally {
      await Promise.all([leader.Stop(), follower.Stop()])
    }
  })

  it('should let a LiveActor with such an id take its priority lease', async () => {
    const store = new ShortKeyStore()
    const id = 't'.repeat(LIMIT)
    const a = await new Tally(id, createContainer({ store })).Load()
    const b = await new Tally(id, createContainer({ store })).Load()
    await Promise.all(Array.from({ length: 20 }, (_, n) => (n % 2 ? a : b).Fire('counted', { by: n % 2 ? 'a' : 'b', n })))
    await a.Stop()
    await b.Stop()
    const final = await new Tally(id, createContainer({ store })).Load()
    await final.Stop()
    expect(final._state.total).to.equal(20)
    const liveNames = [...store.names].filter((name) => name.startsWith('live/'))
    expect(liveNames).to.have.length.greaterThan(0)
    expect(liveNames.every((name) => name.startsWith('live/#'))).to.equal(true)
  })
})
