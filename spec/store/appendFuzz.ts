import { expect } from 'chai'
import fc from 'fast-check'
import { isOmniscientError, type AppendOptions, type AppendResult, type EventEnvelope, type NewEvent, type StorageAdapter } from 'omniscient-actors'

// Part of the conformance suite (conformance.ts calls it): random appends, good and bad mixed,
// started together so a group-committing store judges them in one group. Every call must
// either store exactly what it was given or reject with a coded error and store nothing, and
// reads must give back exactly what was stored. FUZZ_RUNS sets the number of runs (default
// 15: a few seconds per adapter; `npm run test:faults` runs more).

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 15)
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])
// Good ids stay under the smallest limit any adapter has (RethinkStore's 80 bytes); bad long
// ones are past the largest (256), so whether an id is valid never depends on the adapter.
const LONG = 'é'.repeat(129)

/** Strings of code units that may be anything, lone surrogates and NUL included. */
const anyUnits = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'z', '-', '/', 'é', '€', '😀', ' ') },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  ),
  minLength: 0,
  maxLength: 8,
})

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** The argument rules, written again independently of lib/store/kit/arguments.ts. */
function validId(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && !LONE_SURROGATE.test(value) && !value.includes('\0') && utf8Bytes(value) <= 80
}

const badData = fc.constantFrom<unknown>({ n: 1n }, { n: NaN }, [Infinity], { f: () => 1 }, new Map(), [undefined])

interface FuzzEvent {
  readonly fresh: boolean
  readonly reuse: number
  readonly id: string | undefined
  readonly name: unknown
  readonly data: { good: boolean; value: unknown }
  readonly at: unknown
  readonly schemaVersion: unknown
}

const fuzzEvent: fc.Arbitrary<FuzzEvent> = fc.record({
  // Mostly a fresh id; sometimes one used earlier in the run (stored or not), or a raw string.
  fresh: fc.boolean(),
  reuse: fc.nat(),
  id: fc.option(fc.oneof(anyUnits, fc.constantFrom('', LONG, 'nul\0id')), { nil: undefined, freq: 4 }),
  name: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('made', 'moved', 'ünïcode 😀') }, { weight: 1, arbitrary: anyUnits }),
  data: fc.oneof(
    { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => ({ good: true, value })) },
    { weight: 1, arbitrary: badData.map((value) => ({ good: false, value })) },
  ),
  at: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 2 ** 45 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(1.5, NaN, '1') }),
  schemaVersion: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 2.5) }),
})

interface FuzzCall {
  readonly stream: number
  readonly rawStream: string | undefined
  readonly events: readonly FuzzEvent[]
  readonly expected: 'any' | 'right' | number | { bad: unknown }
}

const fuzzCall: fc.Arbitrary<FuzzCall> = fc.record({
  stream: fc.nat({ max: 3 }),
  rawStream: fc.option(fc.oneof(anyUnits, fc.constantFrom('', LONG)), { nil: undefined, freq: 5 }),
  events: fc.array(fuzzEvent, { minLength: 0, maxLength: 4 }),
  expected: fc.oneof(
    fc.constant<'any'>('any'),
    fc.constant<'right'>('right'),
    fc.integer({ min: 0, max: 4 }),
    fc.constantFrom<unknown>(0.5, -1, '0', undefined, 2 ** 40, NaN).map((bad) => ({ bad })),
  ),
})

/** JSON as a store gives it back: through JSON, prototype-polluting keys dropped. */
function asStored(data: unknown): unknown {
  return data === undefined ? undefined : JSON.parse(JSON.stringify(data), (key: string, value: unknown) => (FORBIDDEN.has(key) ? undefined : value))
}

export function describeAppendFuzz(store: () => StorageAdapter): void {
  describe('append() under random good and bad input (fuzz)', () => {
    it(`should store each call exactly as given or refuse it with a code, storing nothing (${RUNS} runs)`, async function () {
      this.timeout(30_000 + RUNS * 2_000)
      let run = 0
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(fuzzCall, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), fc.array(anyUnits, { minLength: 4, maxLength: 4 }), async (rounds, suffixes) => {
          run++
          const s = store()
          const streams = suffixes.map((suffix, i) => `fz${process.pid}-${run}-${i}${suffix}`)
          const versions = new Map<string, number>()
          const usedIds: string[] = []
          let fresh = 0
          const stored = new Map<string, EventEnvelope>() // by id: every envelope a call was answered as newly stored
          for (const round of rounds) {
            // Raw ids and stream ids get the run's prefix too (unless empty: that stays the bad
            // value it is), so runs never meet; a prefix keeps a bad id bad.
            const raw = (text: string, kind: string) => (text === '' ? '' : `${kind}${run}:${text}`)
            const prepared = round.map((call) => {
              const streamId = call.rawStream === undefined ? streams[call.stream]! : raw(call.rawStream, 's')
              const events = call.events.map((e): NewEvent => {
                const id = e.id !== undefined ? raw(e.id, 'i') : e.fresh || usedIds.length === 0 ? `id-${process.pid}-${run}-${++fresh}` : usedIds[e.reuse % usedIds.length]!
                usedIds.push(id)
                return { id, name: e.name, data: e.data.value, schemaVersion: e.schemaVersion, at: e.at, meta: { actorType: 'Fuzz' } } as NewEvent
              })
              const expectedVersion = call.expected === 'right' ? (versions.get(streamId) ?? 0) : typeof call.expected === 'object' ? call.expected.bad : call.expected
              const validArgs =
                validId(streamId) &&
                events.length > 0 &&
                new Set(events.map((e) => e.id)).size === events.length &&
                call.events.every((e, i) => validId(events[i]!.id) && validId(e.name) && e.data.good && Number.isSafeInteger(e.at) && Number.isInteger(e.schemaVersion) && (e.schemaVersion as number) >= 1) &&
                (expectedVersion === 'any' || (Number.isSafeInteger(expectedVersion) && (expectedVersion as number) >= 0))
              return { streamId, events, expectedVersion, validArgs }
            })
            // Fresh: no other call of the run, before or in this round, used any of its ids.
            const uses = new Map<string, number>()
            for (const id of usedIds) uses.set(id, (uses.get(id) ?? 0) + 1)
            // Every append of the round is started in this one turn.
            const calls = prepared.map((call) => ({
              ...call,
              allFresh: call.events.every((e) => uses.get(e.id) === 1),
              outcome: s.append(call.streamId, call.events, { expectedVersion: call.expectedVersion } as AppendOptions).then(
                (value): { value: AppendResult } => ({ value }),
                (error: unknown) => ({ error }),
              ),
            }))
            const retries: EventEnvelope[] = []
            for (const call of calls) {
              const outcome = await call.outcome
              const what = `append to ${JSON.stringify(call.streamId)} of ${call.events.length} event(s), expectedVersion ${String(call.expectedVersion)}`
              if ('error' in outcome) {
                // Refused: with a code, and for a reason the call gave.
                expect(isOmniscientError(outcome.error), `${what}: ${String(outcome.error)}`).to.equal(true)
                const code = (outcome.error as { code: string }).code
                if (!call.validArgs) expect(['INVALID_ARGUMENT', 'UNSERIALIZABLE', 'IDEMPOTENCY'], what).to.include(code)
                else expect(['CONCURRENCY', 'IDEMPOTENCY'], `${what}: ${String(outcome.error)}`).to.include(code)
                // A good call on fresh ids that checks no version has no reason to fail.
                expect(call.expectedVersion === 'any' && call.allFresh && call.validArgs, `${what} failed: ${String(outcome.error)}`).to.equal(false)
                continue
              }
              expect(call.validArgs, `${what} was accepted`).to.equal(true)
              const { events, alreadyStored } = outcome.value
              expect(events.map((e) => e.id), what).to.deep.equal(call.events.map((e) => e.id))
              if (alreadyStored) {
                retries.push(...events) // checked once the round is over: the store may have judged its original later
                continue
              }
              events.forEach((e, i) => {
                const given = call.events[i]!
                expect(e, what).to.include({ streamId: call.streamId, name: given.name, schemaVersion: given.schemaVersion, at: given.at })
                if (i > 0) expect(e.version).to.equal(events[i - 1]!.version + 1)
                stored.set(e.id, e)
              })
              if (typeof call.expectedVersion === 'number') expect(events[0]!.version, what).to.equal(call.expectedVersion + 1)
              versions.set(call.streamId, Math.max(versions.get(call.streamId) ?? 0, events.at(-1)!.version))
            }
            for (const e of retries) expect(stored.get(e.id), `retry of ${e.id}: answered as stored before`).to.deep.include({ streamId: e.streamId, version: e.version, position: e.position })
          }
          // Reads give back exactly the calls answered as stored: nothing more, nothing less.
          const mine = (await collect(s.readAll())).filter((e) => e.id.startsWith(`id-${process.pid}-${run}-`) || e.streamId.startsWith(`fz${process.pid}-${run}-`) || stored.has(e.id))
          expect(mine.map((e) => e.id).sort()).to.deep.equal([...stored.keys()].sort())
          for (const read of mine) {
            const answered = stored.get(read.id)!
            expect({ ...read, data: undefined }).to.deep.equal({ ...answered, data: undefined, meta: { actorType: 'Fuzz' } })
            expect(JSON.stringify(read.data)).to.equal(JSON.stringify(asStored(answered.data)))
          }
          for (const streamId of new Set(mine.map((e) => e.streamId))) {
            const inStream = await collect(s.readStream(streamId))
            expect(inStream.map((e) => e.version)).to.deep.equal(inStream.map((_, i) => i + 1))
            expect(inStream.map((e) => e.id)).to.deep.equal(mine.filter((e) => e.streamId === streamId).sort((a, b) => a.version - b.version).map((e) => e.id))
          }
        }),
        { numRuns: RUNS },
      )
    })
  })
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}
