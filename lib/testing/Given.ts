import { AssertionError, expect } from 'chai'
import { ManualClock } from '../Clock.js'
import { createContainer, type Container } from '../Container.js'
import type { EventEnvelope, NewEvent } from '../envelope.js'
import { findDefinition, validateEventData, type AnyEventCatalog } from '../events.js'
import { sequentialIds } from '../ids.js'
import { MemoryStore } from '../store/MemoryStore.js'
import { alignWithExpected } from './match.js'

/** An event of the Given list: on the actor's stream unless `streamId` says otherwise. */
export interface GivenEvent {
  readonly name: string
  readonly data?: unknown
  readonly streamId?: string
  /** When it happened, in ms since the epoch. Default: the scenario's `now`. */
  readonly at?: number
}

/** An event of the Then list; `data` may hold placeholders such as `'{string}'`. */
export interface ExpectedEvent {
  readonly name: string
  readonly data?: unknown
  readonly streamId?: string
}

/** Options of a scenario. */
export interface GivenOptions {
  /** The id of the actor under test (and of the Given events' stream). Default `'test-id'`. */
  readonly id?: string
  /** The clock's start, in ms since the epoch. Default 0. */
  readonly now?: number
}

/** What When needs of an actor; every `Actor` subclass fits. */
export interface TestableActor {
  Load(): Promise<unknown>
  Idle(): Promise<void>
  Stop(): Promise<void>
  readonly _state: object
}

/** The class under test. */
export type TestableActorClass<A extends TestableActor> = (new (id: string, container: Container) => A) & {
  readonly events?: AnyEventCatalog
}

/** The names of an actor's methods, for When's second argument. */
export type MethodName<A> = {
  [K in keyof A & string]: A[K] extends (...args: never[]) => unknown ? K : never
}[keyof A & string]

type MethodArgs<A, M extends keyof A> = A[M] extends (...args: infer P) => unknown ? P : never

/** What ThenThrows accepts: an error class, an error `code`, or a pattern for the message. */
export type ExpectedError = (abstract new (...args: never[]) => Error) | string | RegExp

interface Plan {
  readonly description: string
  readonly given: readonly GivenEvent[]
  readonly options: GivenOptions
  readonly when?: { readonly actorClass: TestableActorClass<TestableActor>; readonly method: string; readonly args: readonly unknown[] }
  readonly then?: readonly ExpectedEvent[]
  readonly throws?: ExpectedError
  readonly state?: object
}

/** What a finished scenario hands back, for assertions of one's own. */
export interface ScenarioResult<A extends TestableActor = TestableActor> {
  readonly actor: A
  readonly container: Container
  readonly fired: readonly EventEnvelope[]
  readonly returned: unknown
  readonly error: unknown
}

/**
 * A Given/When/Then scenario. Each step returns a new scenario; awaiting one runs it on a fresh
 * in-memory store with a manual clock and rejects with a chai `AssertionError` on a mismatch.
 */
export class Scenario<A extends TestableActor = TestableActor> implements PromiseLike<ScenarioResult<A>> {
  constructor(private readonly plan: Plan) {}

  /** Constructs and loads the actor, then calls `method(...args)` and waits for its Fires. */
  When<B extends TestableActor, M extends MethodName<B>>(
    actorClass: TestableActorClass<B>,
    method: M,
    ...args: MethodArgs<B, M>
  ): Scenario<B> {
    return new Scenario<B>({ ...this.plan, when: { actorClass, method, args } })
  }

  /** The events the When step fired, in order. `data` is compared whole, placeholders allowed. */
  Then(expected: readonly ExpectedEvent[]): Scenario<A> {
    return new Scenario<A>({ ...this.plan, then: expected })
  }

  /** The When step must throw: an error class, an error `code`, or a message pattern. */
  ThenThrows(expected: ExpectedError): Scenario<A> {
    return new Scenario<A>({ ...this.plan, throws: expected })
  }

  /** The keys named here must equal the actor's state (other keys are not compared). */
  AndState(expected: object): Scenario<A> {
    return new Scenario<A>({ ...this.plan, state: expected })
  }

  then<R1 = ScenarioResult<A>, R2 = never>(
    onFulfilled?: ((value: ScenarioResult<A>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return (this.run() as Promise<ScenarioResult<A>>).then(onFulfilled, onRejected)
  }

  private async run(): Promise<ScenarioResult> {
    const { plan } = this
    if (!plan.when) throw new Error(`Given "${plan.description}": the scenario has no When step`)
    const { actorClass, method, args } = plan.when
    const id = plan.options.id ?? 'test-id'
    const reported: unknown[] = []
    const container = createContainer({
      store: new MemoryStore(),
      clock: new ManualClock(plan.options.now ?? 0),
      ids: sequentialIds('event'),
      report: (err) => reported.push(err),
    })
    await seed(container, id, plan.given, actorClass.events ?? {})

    const actor = new actorClass(id, container)
    const fired: EventEnvelope[] = []
    let returned: unknown
    let error: unknown
    try {
      await actor.Load()
      container.bus.subscribeAll((e) => void fired.push(e))
      try {
        const fn = (actor as unknown as Record<string, (...a: readonly unknown[]) => unknown>)[method]
        if (typeof fn !== 'function') throw new TypeError(`${actorClass.name} has no method "${method}"`)
        returned = await fn.apply(actor, [...args])
        await actor.Idle()
      } catch (err) {
        error = err
        await actor.Idle().catch(() => undefined)
      }
    } finally {
      // A LiveActor (or OneActor, TickActor) follows its stream until stopped: stop it, so the
      // test process can exit. The state stays readable for the assertions below.
      await actor.Stop()
      await container.close()
    }

    const label = `Given ${plan.description}, When ${actorClass.name}.${method}`
    checkError(label, plan.throws, error)
    if (reported.length > 0) throw new AssertionError(`${label}: the framework reported an error: ${String(reported[0])}`, { actual: reported })
    if (plan.then) {
      const actual = fired.map((e) => ({ name: e.name, data: e.data, streamId: e.streamId }))
      const expected = plan.then.map((e) => ({ name: e.name, data: e.data, streamId: e.streamId ?? id }))
      const aligned = actual.map((a, i) => alignEvent(a, expected[i]))
      expect(aligned, `${label}, Then the events fired`).to.deep.equal(expected.map(dropUndefinedData))
    }
    if (plan.state) {
      expect(alignWithExpected(actor._state, plan.state, true), `${label}, And the state`).to.deep.equal(plan.state)
    }
    return { actor, container, fired, returned, error }
  }
}

function alignEvent(actual: { name: string; data: unknown; streamId: string }, expected: ExpectedEvent | undefined): object {
  if (!expected) return actual
  const aligned = { name: actual.name, data: alignWithExpected(actual.data, expected.data, false), streamId: actual.streamId }
  // An expected event without data does not compare data.
  return expected.data === undefined ? { name: aligned.name, streamId: aligned.streamId } : aligned
}

function dropUndefinedData(e: { name: string; data: unknown; streamId: string }): object {
  return e.data === undefined ? { name: e.name, streamId: e.streamId } : e
}

function checkError(label: string, expected: ExpectedError | undefined, error: unknown): void {
  if (expected === undefined) {
    // The When step failed unexpectedly: rethrow its own error, whatever it is.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (error !== undefined) throw error
    return
  }
  if (error === undefined) throw new AssertionError(`${label}: expected it to throw ${describe(expected)}, but it did not throw`)
  const err = error as Error & { code?: unknown }
  const ok =
    typeof expected === 'string' ? err.code === expected :
    expected instanceof RegExp ? expected.test(String(err.message)) :
    error instanceof expected
  if (!ok) {
    throw new AssertionError(`${label}: expected it to throw ${describe(expected)}, but it threw ${err.name}: ${err.message}`, {
      actual: err,
      expected: describe(expected),
    })
  }
}

function describe(expected: ExpectedError): string {
  if (typeof expected === 'string') return `an error with code "${expected}"`
  if (expected instanceof RegExp) return `an error matching ${String(expected)}`
  return `a ${expected.name}`
}

// Given events are validated against the class under test when it defines them, so a typo in
// a test's history fails loudly instead of seeding an event no handler understands.
async function seed(container: Container, id: string, given: readonly GivenEvent[], catalog: AnyEventCatalog): Promise<void> {
  for (const event of given) {
    const definition = findDefinition(catalog, event.name)
    const data = definition ? validateEventData(definition, event.data) : event.data
    const stored: NewEvent = {
      id: container.ids(),
      name: event.name,
      data,
      schemaVersion: definition?.version ?? 1,
      at: event.at ?? container.clock.now(),
      meta: { actorType: 'Given' },
    }
    await container.store.append(event.streamId ?? id, [stored], { expectedVersion: 'any' })
  }
}

/**
 * Starts a scenario: the events that already happened. Await it after `When`, `Then`,
 * `ThenThrows` or `AndState`, inside a mocha `it`.
 *
 * @example
 * await Given('a user signed up', [{ name: 'signup', data: { username: 'u', password: 'p' } }])
 *   .When(User, 'DoLoginAttempt', 'p', {})
 *   .Then([{ name: 'logged_in', data: { browserFingerprint: {}, token: '{string}' } }])
 *   .AndState({ logged_in: true })
 */
export function Given(description: string, events: readonly GivenEvent[] = [], options: GivenOptions = {}): Scenario {
  return new Scenario({ description, given: events, options })
}
