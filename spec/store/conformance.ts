import { expect } from 'chai'
import fc from 'fast-check'
import {
  ConcurrencyError,
  IdempotencyError,
  LeaseLostError,
  SnapshotCorruptError,
  StorageError,
  StoreClosedError,
  isStoreClosedError,
  type EventEnvelope,
  type NewEvent,
  type StorageAdapter,
  type Subscription,
} from 'omniscient-actors'
import { describeAppendFuzz } from './appendFuzz.js'
import { describeInputRules } from './inputRules.js'
import { describeLiveDelivery } from './liveDelivery.js'

/** What each adapter's spec file provides to the shared suite. */
export interface AdapterHarness {
  readonly store: StorageAdapter
  /** Makes the stored snapshot of (actorType, streamId) unreadable, as a damaged disk would. */
  corruptSnapshot(actorType: string, streamId: string): Promise<void>
  /** Closes and removes whatever the harness created. */
  dispose(): Promise<void>
}

let counter = 0
export function newEvent(name = 'happened', data: unknown = { n: counter }, id = `e-${process.pid}-${++counter}`): NewEvent {
  return { id, name, data, schemaVersion: 1, at: 1_700_000_000_000 + counter, meta: { actorType: 'Spec' } }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/**
 * The StorageAdapter contract, one suite for every adapter. Each `it` gets a fresh store.
 */
export function describeStorageContract(adapterName: string, makeHarness: () => Promise<AdapterHarness>): void {
  describe(`StorageAdapter contract: ${adapterName}`, function () {
    let h: AdapterHarness
    let store: StorageAdapter
    beforeEach(async () => {
      h = await makeHarness()
      store = h.store
    })
    afterEach(async () => h.dispose())

    describe('append()', () => {
      it('should number a new stream 1..n and give increasing positions', async () => {
        const result = await store.append('s1', [newEvent(), newEvent(), newEvent()], { expectedVersion: 0 })
        expect(result.alreadyStored).to.equal(false)
        expect(result.events.map((e) => e.version)).to.deep.equal([1, 2, 3])
        const positions = result.events.map((e) => e.position)
        expect(positions[0]).to.be.greaterThan(0)
        expect(positions).to.deep.equal([...positions].sort((a, b) => a - b))
        expect(new Set(positions).size).to.equal(3)
        expect(await store.streamVersion('s1')).to.equal(3)
      })

      it('should return the envelope with everything that was handed in', async () => {
        const event = newEvent('made', { nested: { list: [1, 'two', null], ok: true }, text: 'żółw 🐢' })
        const [stored] = (await store.append('s1', [event], { expectedVersion: 0 })).events
        expect(stored).to.include({ id: event.id, streamId: 's1', version: 1, name: 'made', schemaVersion: 1, at: event.at })
        expect(stored!.data).to.deep.equal(event.data)
        expect(stored!.meta).to.deep.equal({ actorType: 'Spec' })
        const [read] = await collect(store.readStream('s1'))
        expect(read).to.deep.equal(stored)
      })

      it('should refuse a wrong expectedVersion with ConcurrencyError and store nothing', async () => {
        await store.append('s1', [newEvent()], { expectedVersion: 0 })
        const err = await rejection(store.append('s1', [newEvent(), newEvent()], { expectedVersion: 0 }))
        expect(err).to.be.instanceOf(ConcurrencyError)
        expect(err).to.include({ code: 'CONCURRENCY', streamId: 's1', expectedVersion: 0, actualVersion: 1 })
        expect((err as Error).message).to.match(/"s1".*expected version 0.*version 1/)
        expect(await store.streamVersion('s1')).to.equal(1)
        expect(await collect(store.readAll())).to.have.length(1)
      })

      it('should give back undefined data as undefined and null as null', async () => {
        await store.append('s1', [{ ...newEvent('none'), data: undefined }, newEvent('nothing', null)], { expectedVersion: 0 })
        const read = await collect(store.readStream('s1'))
        expect(read.map((e) => e.data)).to.deep.equal([undefined, null])
        expect('data' in read[0]!).to.equal(true)
      })

      it("should skip the version check with expectedVersion 'any'", async () => {
        await store.append('s1', [newEvent()], { expectedVersion: 'any' })
        const result = await store.append('s1', [newEvent()], { expectedVersion: 'any' })
        expect(result.events[0]!.version).to.equal(2)
      })

      it('should return the stored envelopes when a batch is retried, without duplicating it', async () => {
        const batch = [newEvent(), newEvent()]
        const first = await store.append('s1', batch, { expectedVersion: 0 })
        const retry = await store.append('s1', batch, { expectedVersion: 0 })
        expect(retry.alreadyStored).to.equal(true)
        expect(retry.events).to.deep.equal(first.events)
        expect(await store.streamVersion('s1')).to.equal(2)
      })

      it('should refuse a batch that mixes stored and new ids, storing none of it', async () => {
        const stored = newEvent()
        await store.append('s1', [stored], { expectedVersion: 0 })
        const err = await rejection(store.append('s1', [stored, newEvent()], { expectedVersion: 1 }))
        expect(err).to.be.instanceOf(IdempotencyError)
        expect(await store.streamVersion('s1')).to.equal(1)
      })

      it('should refuse an id already stored on another stream, storing none of the batch', async () => {
        const taken = newEvent()
        await store.append('other', [taken], { expectedVersion: 0 })
        const err = await rejection(store.append('s1', [newEvent(), taken], { expectedVersion: 0 }))
        expect(err).to.be.instanceOf(IdempotencyError)
        // The id, not always the stream: a sync server does not tell a client where an id is stored.
        expect((err as Error).message).to.include(taken.id)
        expect(await store.streamVersion('s1')).to.equal(0)
      })

      it('should refuse an empty batch, a repeated id in one batch and an empty stream id', async () => {
        expect(await rejection(store.append('s1', [], { expectedVersion: 0 }))).to.be.instanceOf(StorageError)
        const twice = newEvent()
        expect(await rejection(store.append('s1', [twice, twice], { expectedVersion: 0 }))).to.be.instanceOf(IdempotencyError)
        expect(await rejection(store.append('', [newEvent()], { expectedVersion: 0 }))).to.be.instanceOf(StorageError)
        expect(await store.headPosition()).to.equal(0)
      })

      it('should refuse event data JSON cannot hold, naming the event, storing none of the batch', async () => {
        const err = await rejection(store.append('s1', [newEvent(), newEvent('big', { n: 1n })], { expectedVersion: 0 }))
        expect(err).to.be.instanceOf(StorageError).and.to.have.property('code', 'UNSERIALIZABLE')
        expect((err as Error).message).to.include('"big"').and.to.include('"s1"')
        expect(await store.streamVersion('s1')).to.equal(0)
      })

      it('should let exactly one of many concurrent writers expecting the same version win', async () => {
        await store.append('s1', [newEvent()], { expectedVersion: 0 })
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.append('s1', [newEvent(), newEvent()], { expectedVersion: 1 })),
        )
        const won = outcomes.filter((o) => o.status === 'fulfilled')
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        expect(won).to.have.length(1)
        expect(lost.every((o) => o.reason instanceof ConcurrencyError)).to.equal(true)
        expect(await store.streamVersion('s1')).to.equal(3)
      })

      it('should judge each of many concurrent appends on its own ids: stored, mixed or new', async () => {
        const stored = newEvent()
        await store.append('s0', [stored], { expectedVersion: 0 })
        // Started together, so a group-committing store judges them in one group.
        const [fresh, reused, mixed] = await Promise.allSettled([
          store.append('a', [newEvent()], { expectedVersion: 0 }),
          store.append('b', [stored], { expectedVersion: 0 }),
          store.append('e', [newEvent(), stored], { expectedVersion: 0 }),
        ])
        expect(fresh.status).to.equal('fulfilled')
        for (const refused of [reused, mixed]) expect((refused as PromiseRejectedResult).reason).to.be.instanceOf(IdempotencyError)
        const versions = await Promise.all(['a', 'b', 'e'].map((id) => store.streamVersion(id)))
        expect(versions).to.deep.equal([1, 0, 0])
        expect(await collect(store.readAll())).to.have.length(2)
      })

      it('should store an id sent to two streams at once only once', async () => {
        const shared = newEvent()
        const outcomes = await Promise.allSettled([
          store.append('c', [newEvent(), shared], { expectedVersion: 0 }),
          store.append('d', [shared], { expectedVersion: 0 }),
          store.append('f', [newEvent()], { expectedVersion: 0 }),
        ])
        const [first, second, other] = outcomes
        expect(other.status).to.equal('fulfilled')
        expect([first, second].filter((o) => o.status === 'fulfilled')).to.have.length(1)
        expect(([first, second].find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).to.be.instanceOf(IdempotencyError)
        const stored = (await collect(store.readAll())).filter((e) => e.id === shared.id)
        expect(stored).to.have.length(1)
      })

      it('should commit concurrent appends to many streams, each whole', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.append(`many-${i}`, [newEvent(), newEvent()], { expectedVersion: 0 })),
        )
        expect(results.every((r) => r.events.length === 2)).to.equal(true)
        const all = await collect(store.readAll())
        expect(all).to.have.length(100)
        expect(new Set(all.map((e) => e.position)).size).to.equal(100)
      })
    })

    describeInputRules(() => store)
    describeAppendFuzz(() => store)

    describe('readStream()', () => {
      it('should read in version order, within inclusive bounds', async () => {
        for (let v = 0; v < 10; v++) await store.append('s1', [newEvent('n', { v: v + 1 })], { expectedVersion: v })
        await store.append('noise', [newEvent()], { expectedVersion: 0 })
        expect((await collect(store.readStream('s1'))).map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        expect((await collect(store.readStream('s1', { fromVersion: 4, toVersion: 6 }))).map((e) => e.data)).to.deep.equal([
          { v: 4 },
          { v: 5 },
          { v: 6 },
        ])
        expect(await collect(store.readStream('s1', { fromVersion: 11 }))).to.deep.equal([])
        expect(await collect(store.readStream('missing'))).to.deep.equal([])
      })

      it("should give back each event's own metadata, frozen, when events in a row carry different ones", async () => {
        const metas = [{ actorType: 'A' }, { actorType: 'A' }, { actorType: 'B', correlationId: 'c1' }, {}, { actorType: 'A' }]
        const events = metas.map((meta) => ({ ...newEvent(), meta }))
        await store.append('s1', events, { expectedVersion: 0 })
        const read = await collect(store.readStream('s1'))
        expect(read.map((e) => e.meta)).to.deep.equal(metas)
        expect(read.every((e) => Object.isFrozen(e.meta))).to.equal(true)
      })

      it('should read a stream longer than one page in order, without gaps', async () => {
        const batch = Array.from({ length: 10_000 }, (_, i) => newEvent('n', { i }))
        await store.append('long', batch, { expectedVersion: 0 })
        let expected = 1
        for await (const e of store.readStream('long')) {
          expect(e.version).to.equal(expected++)
        }
        expect(expected).to.equal(10_001)
        // Bounds that fall inside pages, several pages apart.
        const middle = await collect(store.readStream('long', { fromVersion: 1_999, toVersion: 8_193 }))
        expect(middle.map((e) => e.version)).to.deep.equal(Array.from({ length: 8_193 - 1_999 + 1 }, (_, i) => 1_999 + i))
      })
    })

    describe('readAll()', () => {
      it('should read every stream in position order from a position on', async () => {
        await store.append('a', [newEvent('x', 1)], { expectedVersion: 0 })
        await store.append('b', [newEvent('x', 2)], { expectedVersion: 0 })
        await store.append('a', [newEvent('x', 3)], { expectedVersion: 1 })
        const all = await collect(store.readAll())
        expect(all.map((e) => [e.streamId, e.data])).to.deep.equal([['a', 1], ['b', 2], ['a', 3]])
        const fromSecond = await collect(store.readAll({ fromPosition: all[1]!.position }))
        expect(fromSecond.map((e) => e.data)).to.deep.equal([2, 3])
        expect(await store.headPosition()).to.equal(all[2]!.position)
      })
    })

    describe('stored data', () => {
      it('should drop prototype-polluting keys when reading data back', async () => {
        const hostile = JSON.parse('{"ok":1,"__proto__":{"polluted":true},"inner":{"constructor":{"prototype":{"x":1}}}}') as unknown
        await store.append('s1', [newEvent('hostile', hostile)], { expectedVersion: 0 })
        const [read] = await collect(store.readStream('s1'))
        expect(read!.data).to.deep.equal({ ok: 1, inner: {} })
        expect(Object.getPrototypeOf(read!.data)).to.equal(Object.prototype)
        expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined)
      })
    })

    describe('snapshots', () => {
      it('should save, replace and load a snapshot by actor type and stream', async () => {
        expect(await store.loadSnapshot('User', 'u1')).to.equal(undefined)
        await store.saveSnapshot({ actorType: 'User', streamId: 'u1', snapshotVersion: 1, version: 5, state: { a: 1 }, at: 10 })
        await store.saveSnapshot({ actorType: 'User', streamId: 'u1', snapshotVersion: 2, version: 9, state: { a: 2 }, at: 20 })
        await store.saveSnapshot({ actorType: 'Player', streamId: 'u1', snapshotVersion: 1, version: 3, state: { p: 1 }, at: 30 })
        expect(await store.loadSnapshot('User', 'u1')).to.deep.equal({
          actorType: 'User',
          streamId: 'u1',
          snapshotVersion: 2,
          version: 9,
          state: { a: 2 },
          at: 20,
        })
        expect((await store.loadSnapshot('Player', 'u1'))?.state).to.deep.equal({ p: 1 })
      })

      it('should throw SnapshotCorruptError for a snapshot that cannot be read', async () => {
        await store.saveSnapshot({ actorType: 'User', streamId: 'u1', snapshotVersion: 1, version: 1, state: { a: 1 }, at: 1 })
        await h.corruptSnapshot('User', 'u1')
        const err = await rejection(store.loadSnapshot('User', 'u1'))
        expect(err).to.be.instanceOf(SnapshotCorruptError)
        expect(err).to.include({ code: 'SNAPSHOT_CORRUPT', actorType: 'User', streamId: 'u1' })
      })
    })

    describe('checkpoints', () => {
      it('should save, overwrite and load the last handled position by name', async () => {
        expect(await store.loadCheckpoint('projection')).to.equal(undefined)
        await store.saveCheckpoint('projection', 7)
        await store.saveCheckpoint('projection', 12)
        await store.saveCheckpoint('other', 3)
        expect(await store.loadCheckpoint('projection')).to.equal(12)
        expect(await store.loadCheckpoint('other')).to.equal(3)
      })
    })

    describe('subscribe()', () => {
      const until = async (check: () => boolean, what: string) => {
        const deadline = Date.now() + 5_000
        while (!check()) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
          await new Promise((r) => setTimeout(r, 2))
        }
      }

      it('should deliver the past, then the live events, each once and in order', async () => {
        await store.append('s1', [newEvent('a'), newEvent('b')], { expectedVersion: 0 })
        const got: EventEnvelope[] = []
        const sub = store.subscribe({}, (e) => void got.push(e))
        await until(() => got.length === 2, 'the past events')
        await store.append('s2', [newEvent('c')], { expectedVersion: 0 })
        await store.append('s1', [newEvent('d')], { expectedVersion: 2 })
        await until(() => got.length === 4, 'the live events')
        await sub.close()
        expect(got.map((e) => e.name)).to.deep.equal(['a', 'b', 'c', 'd'])
        expect(sub.nextPosition).to.equal(got[3]!.position + 1)
      })

      it('should leave no gap and no duplicate at the seam while writers keep appending', async () => {
        let writing = true
        const writer = (async () => {
          for (let i = 0; writing || i < 50; i++) {
            await store.append(`w${i % 3}`, [newEvent('w', { i })], { expectedVersion: 'any' })
            if (i % 10 === 0) await new Promise((r) => setImmediate(r))
          }
        })()
        await until(() => true, 'nothing')
        await new Promise((r) => setTimeout(r, 5))
        const got: number[] = []
        const sub = store.subscribe({ fromPosition: 1 }, (e) => void got.push(e.position))
        await new Promise((r) => setTimeout(r, 20))
        writing = false
        await writer
        const all = (await collect(store.readAll())).map((e) => e.position)
        await until(() => got.length === all.length, 'every event')
        await sub.close()
        expect(got).to.deep.equal(all)
      })

      it('should resume from a position', async () => {
        const stored = (await store.append('s1', [newEvent('a'), newEvent('b'), newEvent('c')], { expectedVersion: 0 })).events
        const got: string[] = []
        const sub = store.subscribe({ fromPosition: stored[1]!.position }, (e) => void got.push(e.name))
        await until(() => got.length === 2, 'two events')
        await sub.close()
        expect(got).to.deep.equal(['b', 'c'])
      })

      it('should deliver one stream in version order, past and live, ignoring the others', async () => {
        await store.append('mine', [newEvent('m1')], { expectedVersion: 0 })
        await store.append('other', [newEvent('o1')], { expectedVersion: 0 })
        await store.append('mine', [newEvent('m2')], { expectedVersion: 1 })
        const got: Array<[string, number]> = []
        const sub = store.subscribe({ streamId: 'mine' }, (e) => void got.push([e.name, e.version]))
        await until(() => got.length === 2, 'the past events')
        await store.append('other', [newEvent('o2')], { expectedVersion: 1 })
        await store.append('mine', [newEvent('m3'), newEvent('m4')], { expectedVersion: 2 })
        await until(() => got.length === 4, 'the live events')
        await sub.close()
        expect(got).to.deep.equal([['m1', 1], ['m2', 2], ['m3', 3], ['m4', 4]])
      })

      it('should deliver only the names asked for, yet move past the others', async () => {
        await store.append('s1', [newEvent('keep'), newEvent('skip'), newEvent('keep')], { expectedVersion: 0 })
        const got: string[] = []
        const sub = store.subscribe({ names: ['keep'] }, (e) => void got.push(e.name))
        await until(() => got.length === 2, 'two events')
        await until(() => sub.nextPosition === 4, 'the position to move past the last')
        await sub.close()
        expect(got).to.deep.equal(['keep', 'keep'])
      })

      it('should wait for a slow handler: one event at a time, nothing read ahead into the handler', async () => {
        let release: () => void = () => {}
        let running = 0
        let maxRunning = 0
        const got: number[] = []
        const sub = store.subscribe({}, async (e) => {
          running++
          maxRunning = Math.max(maxRunning, running)
          got.push(e.position)
          if (got.length === 1) await new Promise<void>((r) => (release = r))
          running--
        })
        await store.append('s1', Array.from({ length: 2000 }, () => newEvent()), { expectedVersion: 0 })
        await until(() => got.length === 1, 'the first event')
        await new Promise((r) => setTimeout(r, 20))
        expect(got, 'blocked while the handler is busy').to.have.length(1)
        expect(sub.nextPosition).to.equal(1)
        release()
        await until(() => got.length === 2000, 'the rest')
        await sub.close()
        expect(maxRunning).to.equal(1)
      })

      it('should end, rejecting done with the error, when the handler throws', async () => {
        await store.append('s1', [newEvent('a'), newEvent('b')], { expectedVersion: 0 })
        let calls = 0
        const sub = store.subscribe({}, () => {
          calls++
          throw new Error('handler failed')
        })
        const err = await sub.done.then(() => undefined, (e: unknown) => e)
        expect((err as Error).message).to.equal('handler failed')
        expect(calls).to.equal(1)
        await sub.close()
      })

      it('should stop after the event whose handler closes its own subscription', async () => {
        await store.append('s1', [newEvent('a'), newEvent('b'), newEvent('c')], { expectedVersion: 0 })
        const got: string[] = []
        // Not awaited: close() waits for the running handler, which is this one.
        const sub: Subscription = store.subscribe({}, (e) => {
          got.push(e.name)
          if (e.name === 'b') void sub.close()
        })
        await sub.done
        await store.append('s1', [newEvent('late')], { expectedVersion: 3 })
        await new Promise((r) => setTimeout(r, 20))
        expect(got).to.deep.equal(['a', 'b'])
      })

      it('should deliver nothing after close, and end when the store closes', async () => {
        const got: string[] = []
        const sub = store.subscribe({}, (e) => void got.push(e.name))
        await sub.close()
        await store.append('s1', [newEvent('late')], { expectedVersion: 0 })
        await new Promise((r) => setTimeout(r, 20))
        expect(got).to.deep.equal([])
        const open = store.subscribe({}, () => {})
        await store.close()
        await open.done
      })

      describeLiveDelivery(() => store)
    })

    describe('close()', () => {
      it('should refuse every later call with StoreClosedError (STORE_CLOSED)', async () => {
        await store.append('s1', [newEvent()], { expectedVersion: 0 })
        await store.close()
        const calls: Record<string, () => Promise<unknown>> = {
          append: () => store.append('s1', [newEvent()], { expectedVersion: 1 }),
          readStream: () => collect(store.readStream('s1')),
          readAll: () => collect(store.readAll()),
          streamVersion: () => store.streamVersion('s1'),
          headPosition: () => store.headPosition(),
          subscribe: async () => store.subscribe({}, () => {}).done,
          saveSnapshot: () => store.saveSnapshot({ actorType: 'A', streamId: 's1', version: 1, state: {}, snapshotVersion: 1, at: 1 }),
          loadSnapshot: () => store.loadSnapshot('A', 's1'),
          saveCheckpoint: () => store.saveCheckpoint('c', 1),
          loadCheckpoint: () => store.loadCheckpoint('c'),
          acquireLease: () => store.acquireLease('L', 'a', 1_000, 0),
          renewLease: () => store.renewLease('L', 'a', 1, 1_000, 0),
          releaseLease: () => store.releaseLease('L', 'a', 1, 0),
          readLease: () => store.readLease('L'),
        }
        for (const [method, call] of Object.entries(calls)) {
          const err = await rejection(call())
          expect(err, method).to.be.instanceOf(StoreClosedError).and.to.be.instanceOf(StorageError)
          expect(err, method).to.have.property('code', 'STORE_CLOSED')
          expect(isStoreClosedError(err), method).to.equal(true)
        }
        // Closing again is harmless.
        await store.close()
      })
    })

    describe('leases', () => {
      it('should give a free lease to the first owner, term 1, and refuse a second owner until it expires', async () => {
        const first = await store.acquireLease('L', 'a', 1_000, 0)
        expect(first).to.deep.equal({ name: 'L', holder: 'a', term: 1, expiresAt: 1_000 })
        expect(await store.acquireLease('L', 'b', 1_000, 500)).to.deep.equal(first)
        const taken = await store.acquireLease('L', 'b', 1_000, 1_000)
        expect(taken).to.deep.equal({ name: 'L', holder: 'b', term: 2, expiresAt: 2_000 })
        expect(await store.readLease('L')).to.deep.equal(taken)
      })

      it('should renew for its holder, keeping the term, and refuse a renewal that comes too late or from a deposed term', async () => {
        await store.acquireLease('L', 'a', 1_000, 0)
        expect(await store.renewLease('L', 'a', 1, 1_000, 900)).to.include({ term: 1, expiresAt: 1_900 })
        expect(await store.acquireLease('L', 'a', 1_000, 1_000)).to.include({ holder: 'a', term: 1, expiresAt: 2_000 })
        const late = await store.renewLease('L', 'a', 1, 1_000, 2_000).catch((e: unknown) => e)
        expect(late).to.be.instanceOf(LeaseLostError)
        await store.acquireLease('L', 'b', 1_000, 2_000)
        const deposed = await store.renewLease('L', 'a', 1, 1_000, 2_100).catch((e: unknown) => e)
        expect(deposed).to.be.instanceOf(LeaseLostError).and.to.include({ term: 1, currentTerm: 2 })
      })

      it('should free a released lease at once, and a new holder gets a new term', async () => {
        await store.acquireLease('L', 'a', 10_000, 0)
        await store.releaseLease('L', 'a', 1, 100)
        expect(await store.acquireLease('L', 'b', 1_000, 100)).to.include({ holder: 'b', term: 2 })
        await store.releaseLease('L', 'a', 1, 200) // a no longer holds it: nothing happens
        expect(await store.readLease('L')).to.include({ holder: 'b', term: 2 })
      })

      it('should refuse an append under a term that is no longer current, storing nothing (fencing)', async () => {
        await store.acquireLease('L', 'a', 1_000, 0)
        await store.append('s1', [newEvent()], { expectedVersion: 0, lease: { name: 'L', term: 1 } })
        await store.acquireLease('L', 'b', 1_000, 5_000) // a paused past its expiry; b took over
        const err = await rejection(store.append('s1', [newEvent()], { expectedVersion: 1, lease: { name: 'L', term: 1 } }))
        expect(err).to.be.instanceOf(LeaseLostError).and.to.include({ code: 'LEASE_LOST', lease: 'L', term: 1, currentTerm: 2 })
        expect(await store.streamVersion('s1')).to.equal(1)
        await store.append('s1', [newEvent()], { expectedVersion: 1, lease: { name: 'L', term: 2 } })
        expect(await store.streamVersion('s1')).to.equal(2)
      })

      it('should fence each append of a group on its own', async () => {
        await store.acquireLease('L', 'a', 1_000, 0)
        await store.acquireLease('L', 'b', 1_000, 2_000)
        const [stale, current] = await Promise.allSettled([
          store.append('x', [newEvent()], { expectedVersion: 0, lease: { name: 'L', term: 1 } }),
          store.append('y', [newEvent()], { expectedVersion: 0, lease: { name: 'L', term: 2 } }),
        ])
        expect(stale.status).to.equal('rejected')
        expect(current.status).to.equal('fulfilled')
      })
      it('should fence only the appends of a group that name a lease', async () => {
        await store.acquireLease('L', 'a', 1_000, 0)
        const [fenced, free] = await Promise.allSettled([
          store.append('x', [newEvent()], { expectedVersion: 0, lease: { name: 'L', term: 7 } }),
          store.append('y', [newEvent(), newEvent()], { expectedVersion: 0 }),
        ])
        expect((fenced as PromiseRejectedResult).reason).to.be.instanceOf(LeaseLostError)
        expect(free.status).to.equal('fulfilled')
        expect(await store.streamVersion('x')).to.equal(0)
        expect(await store.streamVersion('y')).to.equal(2)
      })
    })

    describe('against a model (property-based)', () => {
      it('should agree with a simple model on any sequence of appends', async () => {
        type Op = { stream: 'a' | 'b' | 'c'; size: number; expected: 'right' | 'any' | number; retry: boolean }
        const op = fc.record<Op>({
          stream: fc.constantFrom('a', 'b', 'c'),
          size: fc.integer({ min: 1, max: 4 }),
          expected: fc.oneof(fc.constant<'right'>('right'), fc.constant<'any'>('any'), fc.integer({ min: 0, max: 6 })),
          retry: fc.boolean(),
        })
        let run = 0
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
            run++
            const model = new Map<string, string[]>()
            const sent: Array<{ stream: string; batch: NewEvent[] }> = []
            for (const o of ops) {
              const stream = `${o.stream}-${run}`
              const ids = model.get(stream) ?? []
              const retryOf = o.retry ? sent.filter((s) => s.stream === stream).at(-1) : undefined
              if (retryOf) {
                const again = await store.append(stream, retryOf.batch, { expectedVersion: 'any' })
                expect(again.alreadyStored).to.equal(true)
                continue
              }
              const batch = Array.from({ length: o.size }, () => newEvent())
              const expectedVersion = o.expected === 'right' ? ids.length : o.expected
              const accepted = expectedVersion === 'any' || expectedVersion === ids.length
              const outcome = await store.append(stream, batch, { expectedVersion }).then(
                (r) => r,
                (e: unknown) => e,
              )
              if (accepted) {
                expect(outcome).to.not.be.instanceOf(Error)
                ids.push(...batch.map((e) => e.id))
                model.set(stream, ids)
                sent.push({ stream, batch })
              } else {
                expect(outcome).to.be.instanceOf(ConcurrencyError)
              }
            }
            for (const [stream, ids] of model) {
              const read: EventEnvelope[] = await collect(store.readStream(stream))
              expect(read.map((e) => e.id)).to.deep.equal(ids)
              expect(read.map((e) => e.version)).to.deep.equal(ids.map((_, i) => i + 1))
              expect(await store.streamVersion(stream)).to.equal(ids.length)
            }
          }),
          { numRuns: 60 },
        )
      })
    })
  })
}
