// What a handler receives is what the store gives back, with the type it is declared to have.
// Compile-time lines are checked by `tsc --noEmit` (part of npm test): the line after each
// expect-error directive must fail to compile. The run-time half is asserted below.
import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, createContainer, defineEvents, type Container, type EventData, type EventInput } from 'omniscient-actors'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(_proof?: T) => undefined

const toDate = z.codec(z.iso.datetime(), z.date(), { decode: (s) => new Date(s), encode: (d) => d.toISOString() })

const ParcelEvents = defineEvents({
  shipped: z.object({
    at: z.iso.datetime(),
    weight: z.string().transform((s) => Number(s)),
    tags: z.array(z.string()).default([]),
    note: z.unknown(),
  }),
})
type P = typeof ParcelEvents

// Fire takes the input shape; handlers get the output shape, which is what JSON gives back.
assertType<Equal<EventInput<P, 'shipped'>['weight'], string>>()
assertType<Equal<EventData<P, 'shipped'>['weight'], number>>()
assertType<Equal<EventData<P, 'shipped'>['at'], string>>()
assertType<Equal<EventData<P, 'shipped'>['tags'], string[]>>()
assertType<undefined extends EventInput<P, 'shipped'>['tags'] ? true : false>()

// Never called: each of these throws at run time too (asserted below).
export function refusedAtCompileTime(): void {
  // @ts-expect-error a Date comes back from the store as a string
  defineEvents({ a: z.object({ when: z.date() }) })
  // @ts-expect-error a codec decoding to a Date, as deep as it is
  defineEvents({ a: z.object({ trip: z.array(z.object({ when: toDate })) }) })
  // @ts-expect-error a transform returning a Date
  defineEvents({ a: z.string().transform((s) => new Date(s)) })
  // @ts-expect-error a Map comes back as {}
  defineEvents({ a: { schema: z.map(z.string(), z.number()), version: 1 } })
  // @ts-expect-error a Set comes back as {}
  defineEvents({ a: z.object({ s: z.set(z.string()) }) })
  // @ts-expect-error JSON holds no bigint
  defineEvents({ a: z.object({ n: z.bigint().optional() }) })
}

class Parcel extends Actor<P, { weights: number[]; at: string[] }> {
  static events = ParcelEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.weights = []
    this._state.at = []
  }
  shipped(data: EventData<P, 'shipped'>) {
    this._state.weights.push(data.weight)
    this._state.at.push(data.at)
  }
}

describe('event data through the store', () => {
  it('should hand a handler the same data, of its declared type, on Fire and on replay', async () => {
    const container = createContainer({ store: new MemoryStore() })
    const parcel = await new Parcel('p', container).Load()
    await parcel.Fire('shipped', { at: '2026-01-02T03:04:05Z', weight: '2.5', note: 'fragile' })
    const replayed = await new Parcel('p', container).Load()
    expect(parcel._state).to.deep.equal({ weights: [2.5], at: ['2026-01-02T03:04:05Z'] })
    expect(replayed._state).to.deep.equal(parcel._state)
  })

  it('should refuse at definition time a schema whose output JSON cannot give back, saying what to use', () => {
    const refuse = (specs: Record<string, z.ZodType>) => () => (defineEvents as (s: Record<string, z.ZodType>) => unknown)(specs)
    expect(refuse({ a: z.object({ when: z.date() }) })).to.throw(TypeError, /event "a": its field "when" is a z\.date\(\).*z\.iso\.datetime\(\)/)
    expect(refuse({ a: z.object({ trip: z.array(z.object({ when: toDate.optional() })) }) })).to.throw(TypeError, /field "trip\.\[\]\.when" is a z\.date\(\)/)
    expect(refuse({ a: z.object({ m: z.map(z.string(), z.number()) }) })).to.throw(TypeError, /z\.map\(\).*z\.record\(\)/)
    expect(refuse({ a: z.set(z.string()) })).to.throw(TypeError, /its data is a z\.set\(\).*z\.array\(\)/)
    expect(refuse({ a: z.union([z.string(), z.bigint()]) })).to.throw(TypeError, /z\.bigint\(\)/)
    expect(refuse({ a: z.object({ d: z.coerce.date() }) })).to.throw(TypeError, /z\.date\(\)/)
    // The input side of a pipe is not what handlers see: a string parsed into a number is fine.
    expect(refuse({ a: z.object({ n: z.string().pipe(z.coerce.number()), at: z.iso.datetime() }) })).not.to.throw()
  })
})
