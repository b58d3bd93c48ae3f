import { expect } from 'chai'
import fc from 'fast-check'
import {
  ConcurrencyError,
  IdempotencyError,
  SnapshotCorruptError,
  StorageError,
  type EventEnvelope,
  type NewEvent,
  type StorageAdapter,
} from 'omniscient-actors'

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
        expect((err as Error).message).to.include('"other"')
        expect(await store.streamVersion('s1')).to.equal(0)
      })

      it('should refuse an empty batch, a repeated id in one batch and an empty stream id', async () => {
        expect(await rejection(store.append('s1', [], { expectedVersion: 0 }))).to.be.instanceOf(StorageError)
        const twice = newEvent()
        expect(await rejection(store.append('s1', [twice, twice], { expectedVersion: 0 }))).to.be.instanceOf(IdempotencyError)
        expect(await rejection(store.append('', [newEvent()], { expectedVersion: 0 }))).to.be.instanceOf(StorageError)
        expect(await store.headPosition()).to.equal(0)
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

      it('should read a stream longer than one page in order, without gaps', async () => {
        const batch = Array.from({ length: 10_000 }, (_, i) => newEvent('n', { i }))
        await store.append('long', batch, { expectedVersion: 0 })
        let expected = 1
        for await (const e of store.readStream('long')) {
          expect(e.version).to.equal(expected++)
        }
        expect(expected).to.equal(10_001)
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
