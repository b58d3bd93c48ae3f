import { expect } from 'chai'
import { z } from 'zod'
import {
  Actor,
  EventValidationError,
  MAX_DATA_DEPTH,
  MemoryStore,
  UnserializableDataError,
  createContainer,
  defineEvents,
  type Container,
  type EventData,
} from 'omniscient-actors'

const NoteEvents = defineEvents({
  // Schemas that let anything through: what JSON cannot hold reaches the framework.
  noted: z.object({ body: z.unknown() }),
  // defineEvents refuses z.bigint() itself; a transform typed `unknown` still makes one.
  counted: z.object({ n: z.string().transform((s): unknown => BigInt(s)) }),
  deep: z.any(),
})

class Notebook extends Actor<typeof NoteEvents, { notes: unknown[] }> {
  static events = NoteEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.notes = []
  }

  noted(data: EventData<typeof NoteEvents, 'noted'>) {
    this._state.notes.push(data.body)
  }
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf'
  for (let i = 0; i < depth; i++) value = { down: value }
  return value
}

describe('Fire with data JSON cannot hold', () => {
  let store: MemoryStore
  let book: Notebook

  beforeEach(async () => {
    store = new MemoryStore()
    book = new Notebook('book-1', createContainer({ store }))
    await book.Load()
  })

  const cyclic: Record<string, unknown> = {}
  cyclic['me'] = cyclic
  const cases: ReadonlyArray<[string, unknown, readonly PropertyKey[]]> = [
    ['a BigInt', { n: 1n }, ['body', 'n']],
    ['a cycle', cyclic, ['body']],
    ['a function', { f: () => 1 }, ['body', 'f']],
    ['a symbol', [Symbol('s')], ['body', 0]],
    ['NaN', { x: NaN }, ['body', 'x']],
    ['Infinity', { x: Infinity }, ['body', 'x']],
    ['a Set', new Set([1]), ['body']],
    ['undefined in an array', [undefined], ['body', 0]],
  ]
  for (const [what, body, path] of cases) {
    it(`should reject ${what} with UNSERIALIZABLE naming the path, applying and storing nothing`, async () => {
      const err = await book.Fire('noted', { body }).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(UnserializableDataError).and.to.be.instanceOf(EventValidationError)
      expect(err).to.include({ code: 'UNSERIALIZABLE', eventName: 'noted' })
      expect((err as UnserializableDataError).path.slice(0, path.length)).to.deep.equal(path)
      expect(book._state.notes).to.deep.equal([])
      expect(await store.headPosition()).to.equal(0)
    })
  }

  it('should reject a BigInt a schema produced', async () => {
    const err = await book.Fire('counted', { n: '5' }).catch((e: unknown) => e)
    expect(err).to.include({ code: 'UNSERIALIZABLE' })
    expect(await store.headPosition()).to.equal(0)
  })

  it(`should refuse nesting past ${MAX_DATA_DEPTH} levels before the schema walks it, even thousands deep`, async () => {
    for (const depth of [MAX_DATA_DEPTH + 1, 100_000]) {
      const err = await book.Fire('deep', nested(depth)).catch((e: unknown) => e)
      expect(err).to.include({ code: 'UNSERIALIZABLE' })
      expect((err as Error).message).to.include(`deeper than ${MAX_DATA_DEPTH}`)
    }
    await book.Fire('deep', nested(MAX_DATA_DEPTH))
    expect(await store.headPosition()).to.equal(1)
  })

  it('should still refuse prototype-polluting keys as before, with EVENT_VALIDATION', async () => {
    const err = await book.Fire('noted', JSON.parse('{"body":{"__proto__":{"x":1}}}') as { body: unknown }).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(EventValidationError).and.to.include({ code: 'EVENT_VALIDATION' })
    expect((err as EventValidationError).issues[0]).to.deep.include({ path: ['body', '__proto__'], code: 'forbidden_key' })
  })

  it('should store plain data, with objects that define toJSON, as replay will see it', async () => {
    const at = new Date(0)
    const stored = await book.Fire('noted', { body: { at, list: [1, null], skipped: undefined } })
    expect(stored.data).to.deep.equal({ body: { at: at.toJSON(), list: [1, null] } })
    expect(book._state.notes).to.deep.equal([{ at: at.toJSON(), list: [1, null] }])
  })
})
