import { expect } from 'chai'
import {
  ConcurrencyError,
  InvalidArgumentError,
  MAX_DATA_DEPTH,
  MAX_ID_BYTES,
  StorageError,
  type AppendOptions,
  type NewEvent,
  type StorageAdapter,
} from 'omniscient-actors'

// Part of the conformance suite (conformance.ts calls it): what every adapter refuses before its
// engine sees it, and that a refused append never takes the others of its group down with it.

let counter = 0
function event(overrides: Partial<Record<keyof NewEvent, unknown>> = {}): NewEvent {
  return { id: `in-${process.pid}-${++counter}`, name: 'happened', data: { n: counter }, schemaVersion: 1, at: 1_700_000_000_000, meta: {}, ...overrides } as NewEvent
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, but the promise resolved')
    },
    (err: unknown) => err,
  )
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Nested `depth` levels below the data itself. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = { down: value }
  return value
}

// An id no adapter may take: longer than the longest allowed, and in characters of 3 bytes.
const TOO_LONG = 'é'.repeat(MAX_ID_BYTES / 2 + 1)
const BAD_IDS: ReadonlyArray<[string, unknown]> = [
  ['an empty string', ''],
  ['a number', 42],
  ['undefined', undefined],
  ['a lone high surrogate', 'user-\ud800'],
  ['a lone low surrogate', 'user-\udc00'],
  ['a NUL character', 'user\u00001'],
  [`more than ${MAX_ID_BYTES} bytes of UTF-8`, TOO_LONG],
]
const BAD_VERSIONS: ReadonlyArray<[string, unknown]> = [
  ['undefined', undefined],
  ['the string "0"', '0'],
  ['0.5', 0.5],
  ['-1', -1],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2^53 (not a safe integer)', 2 ** 53],
]
// Data JSON cannot hold, or would change on the way to the store and back.
const cyclic: Record<string, unknown> = { a: 1 }
cyclic['self'] = cyclic
const BAD_DATA: ReadonlyArray<[string, unknown]> = [
  ['a BigInt', { n: 1n }],
  ['a cycle', cyclic],
  [`nesting past ${MAX_DATA_DEPTH} levels`, nested(MAX_DATA_DEPTH + 1)],
  ['a function', { f: () => 1 }],
  ['a symbol', { s: Symbol('s') }],
  ['NaN', { n: NaN }],
  ['Infinity', [1, -Infinity]],
  ['a Map', { m: new Map([[1, 2]]) }],
  ['undefined in an array', [1, undefined]],
]

export function describeInputRules(store: () => StorageAdapter): void {
  const expectNothingStored = async () => expect(await store().headPosition()).to.equal(0)
  const expectInvalid = (err: unknown, argument: string) => {
    expect(err).to.be.instanceOf(InvalidArgumentError)
    expect(err).to.be.instanceOf(StorageError)
    expect(err).to.include({ code: 'INVALID_ARGUMENT', argument })
  }

  describe('arguments, checked before the engine sees them', () => {
    for (const [what, id] of BAD_IDS) {
      it(`should refuse a stream id that is ${what}, storing nothing`, async () => {
        expectInvalid(await rejection(store().append(id as string, [event()], { expectedVersion: 0 })), 'streamId')
        await expectNothingStored()
      })
      it(`should refuse an event id that is ${what}, storing none of the batch`, async () => {
        expectInvalid(await rejection(store().append('s1', [event(), event({ id })], { expectedVersion: 0 })), 'events[1].id')
        await expectNothingStored()
      })
    }

    it('should refuse an event name that is empty, not a string or malformed', async () => {
      for (const name of ['', 7, 'a\ud800', 'a\u0000']) {
        expectInvalid(await rejection(store().append('s1', [event({ name })], { expectedVersion: 0 })), 'events[0].name')
      }
      await expectNothingStored()
    })

    for (const [what, expectedVersion] of BAD_VERSIONS) {
      it(`should refuse an expectedVersion of ${what}, storing nothing`, async () => {
        const options = { expectedVersion } as unknown as AppendOptions
        expectInvalid(await rejection(store().append('s1', [event()], options)), 'options.expectedVersion')
        await expectNothingStored()
      })
    }

    it('should refuse an `at` or schema version that is not an integer, and missing options', async () => {
      for (const at of [1.5, NaN, '1', undefined]) expectInvalid(await rejection(store().append('s1', [event({ at })], { expectedVersion: 0 })), 'events[0].at')
      for (const schemaVersion of [0, 1.5, 2 ** 31]) {
        expectInvalid(await rejection(store().append('s1', [event({ schemaVersion })], { expectedVersion: 0 })), 'events[0].schemaVersion')
      }
      expectInvalid(await rejection(store().append('s1', [event()], undefined as unknown as AppendOptions)), 'options')
      expectInvalid(await rejection(store().append('s1', {} as unknown as NewEvent[], { expectedVersion: 0 })), 'events')
      await expectNothingStored()
    })

    it('should refuse a lease with a malformed name or term', async () => {
      for (const lease of [{ name: '', term: 1 }, { name: 'L', term: 1.5 }, { name: 'L', term: -1 }]) {
        const err = await rejection(store().append('s1', [event()], { expectedVersion: 0, lease }))
        expect(err).to.be.instanceOf(InvalidArgumentError)
      }
      await expectNothingStored()
    })

    it('should keep two stream ids apart that differ only past the Basic Multilingual Plane', async () => {
      // Astral characters are well-formed pairs: stored, and never confused with each other.
      const [a, b] = ['user-😀', 'user-😁']
      await store().append(a, [event({ data: 'a' })], { expectedVersion: 0 })
      await store().append(b, [event({ data: 'b' })], { expectedVersion: 0 })
      expect((await collect(store().readStream(a))).map((e) => [e.streamId, e.data])).to.deep.equal([[a, 'a']])
      expect((await collect(store().readStream(b))).map((e) => [e.streamId, e.data])).to.deep.equal([[b, 'b']])
    })

    it('should store ids up to the longest every adapter takes, made of multi-byte characters', async () => {
      const id = '€'.repeat(26) // 78 bytes of UTF-8, under RethinkStore's 80
      const stored = await store().append(id, [event({ id })], { expectedVersion: 0 })
      expect(stored.events[0]).to.include({ id, streamId: id })
      expect((await collect(store().readStream(id)))[0]).to.include({ id, streamId: id })
    })

    it('should refuse malformed read, lease and checkpoint arguments', async () => {
      expect(await rejection(collect(store().readStream('a\ud800')))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(collect(store().readStream('s1', { fromVersion: 1.5 })))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(collect(store().readAll({ fromPosition: -1 })))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().streamVersion(''))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().acquireLease('', 'me', 1_000, 0))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().acquireLease('L', 'me', 1_000, 0.5))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().renewLease('L', 'me', NaN, 1_000, 0))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().saveCheckpoint('p\u0000', 1))).to.be.instanceOf(InvalidArgumentError)
      expect(await rejection(store().saveCheckpoint('p', 1.5))).to.be.instanceOf(InvalidArgumentError)
      expect(await store().readLease('L')).to.equal(undefined)
      expect(await store().loadCheckpoint('p')).to.equal(undefined)
    })

    it('should read a stream past the largest version an engine keeps as nothing, not as an error', async () => {
      await store().append('s1', [event()], { expectedVersion: 0 })
      expect(await collect(store().readStream('s1', { fromVersion: 2 ** 40 }))).to.deep.equal([])
      expect(await collect(store().readStream('s1', { toVersion: Number.MAX_SAFE_INTEGER }))).to.have.length(1)
    })
  })

  describe('data JSON cannot hold', () => {
    for (const [what, data] of BAD_DATA) {
      it(`should refuse data holding ${what} with UNSERIALIZABLE, storing none of the batch`, async () => {
        const err = await rejection(store().append('s1', [event(), event({ name: 'odd', data })], { expectedVersion: 0 }))
        expect(err).to.be.instanceOf(StorageError).and.to.have.property('code', 'UNSERIALIZABLE')
        expect((err as Error).message).to.include('"odd"').and.to.include('"s1"')
        await expectNothingStored()
      })
    }

    it('should refuse meta JSON cannot hold the same way', async () => {
      const err = await rejection(store().append('s1', [event({ meta: { term: 1n } })], { expectedVersion: 0 }))
      expect(err).to.have.property('code', 'UNSERIALIZABLE')
      expect((err as Error).message).to.include('meta.term')
      await expectNothingStored()
    })

    it(`should store data nested exactly ${MAX_DATA_DEPTH} levels and give it back`, async () => {
      const data = nested(MAX_DATA_DEPTH)
      await store().append('s1', [event({ data })], { expectedVersion: 0 })
      expect((await collect(store().readStream('s1')))[0]!.data).to.deep.equal(data)
    })
  })

  describe('a group of concurrent appends with bad ones among them', () => {
    it('should answer each append on its own: the good ones stored, each bad one refused with its code', async () => {
      await store().append('taken', [event()], { expectedVersion: 0 })
      const good = Array.from({ length: 6 }, (_, i) => ({ stream: `good-${i}`, events: [event(), event()] }))
      // Started in one turn, so a group-committing store judges them in one group.
      const bad: Array<[string, Promise<unknown>]> = [
        ['INVALID_ARGUMENT', rejection(store().append('bad-nul', [event({ id: 'nul\u0000id' })], { expectedVersion: 0 }))],
        ['INVALID_ARGUMENT', rejection(store().append('bad-long', [event({ id: 'x'.repeat(8192) })], { expectedVersion: 0 }))],
        ['INVALID_ARGUMENT', rejection(store().append('bad-half', [event()], { expectedVersion: 0.5 }))],
        ['INVALID_ARGUMENT', rejection(store().append('bad-\udfff', [event()], { expectedVersion: 0 }))],
        ['UNSERIALIZABLE', rejection(store().append('bad-data', [event({ data: { n: 10n } })], { expectedVersion: 0 }))],
        ['CONCURRENCY', rejection(store().append('bad-version', [event()], { expectedVersion: 2 ** 40 }))],
        ['CONCURRENCY', rejection(store().append('taken', [event()], { expectedVersion: 0 }))],
      ]
      const stored = good.map((g) => store().append(g.stream, g.events, { expectedVersion: 0 }))
      const outcomes = await Promise.allSettled(stored)
      expect(outcomes.map((o) => o.status)).to.deep.equal(good.map(() => 'fulfilled'))
      // Each refusal is collected as it is made (rejection() catches it at once).
      for (const [code, refused] of bad) expect(await refused, code).to.have.property('code', code)
      const concurrency = await bad[5]![1]
      expect(concurrency).to.be.instanceOf(ConcurrencyError).and.to.include({ expectedVersion: 2 ** 40, actualVersion: 0 })
      const all = await collect(store().readAll())
      expect(all.map((e) => e.streamId).sort()).to.deep.equal(['taken', ...good.flatMap((g) => [g.stream, g.stream])].sort())
    })
  })
}
