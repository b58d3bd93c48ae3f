import { AssertionError, expect } from 'chai'
import { ManualClock } from '../Clock.js'
import { createContainer, type Container } from '../Container.js'
import type { EventEnvelope, NewEvent } from '../envelope.js'
import { UnknownEventError } from '../errors.js'
import { findDefinition, validateEventData, type AnyEventCatalog, type EventName } from '../events.js'
import { sequentialIds } from '../ids.js'
import { MemoryStore } from '../store/memory/MemoryStore.js'
import { alignWithExpected } from './match.js'

/** An actor class, as a Given event names the class that fired it. */
export interface FiringClass {
  readonly name: string
  readonly events?: AnyEventCatalog
  readonly actorType?: string
}

/**
 * An event of the Given list: on the actor's stream unless `streamId` says otherwise. Its name
 * and data are checked against the class under test, or against `actor` when another class
 * fired it (classes may share a stream).
 */
export interface GivenEvent {
  readonly name: string
  readonly data?: unknown
  readonly streamId?: string
  /** The class that fired it, when not the class under test. */
  readonly actor?: FiringClass
  /** When it happened, in ms since the epoch. Default: the scenario's `now`. */
  readonly at?: number
}

/** An event of the Then list; `data` may hold placeholders such as `'{string}'`. */
export interface ExpectedEvent<N extends string = string> {
  readonly name: N
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

/** The catalog of an actor class's `static events` (any catalog when it declares none). */
export type CatalogOf<T> = T extends { readonly events: infer C extends AnyEventCatalog } ? C : AnyEventCatalog

// The names of Given events on the actor's own stream that its class does not define. A name
// typed as plain `string` (an event kept in a variable) cannot be checked here; the run
// time check catches it.
type UnknownGivenNames<G, C extends AnyEventCatalog> = {
  [I in keyof G]: G[I] extends { readonly actor: infer F }
    ? UnknownName<G[I], CatalogOf<F>>
    : G[I] extends { readonly streamId: string } ? never : UnknownName<G[I], C>
}[keyof G & number]

type UnknownName<E, C extends AnyEventCatalog> = E extends { readonly name: infer N extends string }
  ? string extends N ? never : N extends EventName<C> ? never : N
  : never

/** `unknown` when every Given event fits the class under test; otherwise a type naming the misfit. */
export type GivenFits<G, C extends AnyEventCatalog> = [UnknownGivenNames<G, C>] extends [never]
  ? unknown
  : { readonly 'Given names an event the class under test does not define': UnknownGivenNames<G, C> }

/** The placeholders of `PLACEHOLDERS`, for expected data and state. */
export type Placeholder = '{any}' | '{string}' | '{number}' | '{boolean}' | '{object}' | '{array}'

/** What AndState accepts: some of the state's keys, at any depth, each a value or a placeholder. */
export type StatePattern<S> = S extends readonly (infer T)[]
  ? readonly StatePattern<T>[] | Placeholder
  : S extends object
    ? { readonly [K in keyof S]?: StatePattern<S[K]> } | Placeholder
    : S | Placeholder

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
export class Scenario<A extends TestableActor = TestableActor, C extends AnyEventCatalog = AnyEventCatalog, G = readonly GivenEvent[]>
  implements PromiseLike<ScenarioResult<A>>
{
  constructor(private readonly plan: Plan) {}

  /**
   * Constructs and loads the actor, then calls `method(...args)` and waits for its Fires. The
   * method and its arguments are checked against the class, and so are the Given events'
   * names (those on the actor's own stream).
   */
  When<T extends TestableActorClass<TestableActor>, M extends MethodName<InstanceType<T>>>(
    actorClass: T & GivenFits<G, CatalogOf<T>>,
    method: M,
    ...args: MethodArgs<InstanceType<T>, M>
  ): Scenario<InstanceType<T>, CatalogOf<T>, G> {
    return new Scenario({ ...this.plan, when: { actorClass, method, args } })
  }

  /** The events the When step fired, in order. `data` is compared whole, placeholders allowed. */
  Then(expected: readonly ExpectedEvent<EventName<C>>[]): Scenario<A, C, G> {
    return new Scenario({ ...this.plan, then: expected })
  }

  /** The When step must throw: an error class, an error `code`, or a message pattern. */
  ThenThrows(expected: ExpectedError): Scenario<A, C, G> {
    return new Scenario({ ...this.plan, throws: expected })
  }

  /** The keys named here must equal the actor's state (other keys are not compared). */
  AndState(expected: StatePattern<A['_state']>): Scenario<A, C, G> {
    return new Scenario({ ...this.plan, state: expected as object })
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
      store: readableAfterClose(new MemoryStore()),
      clock: new ManualClock(plan.options.now ?? 0),
      ids: sequentialIds('event'),
      report: (err) => reported.push(err),
    })
    await seed(container, id, plan.given, actorClass)

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
      // test process can exit. The state (and the store) stays readable for the assertions below.
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

// Given events are validated against the class under test, so a typo in a test's history
// fails loudly instead of seeding an event no handler understands.
// An event is checked against the class that fired it: `actor` when given, else the class
// under test for events on its own stream (another stream's events, unnamed, are not checked).
async function seed(container: Container, id: string, given: readonly GivenEvent[], actorClass: TestableActorClass<TestableActor>): Promise<void> {
  for (const event of given) {
    const firedBy: FiringClass | undefined = event.actor ?? ((event.streamId ?? id) === id ? actorClass : undefined)
    const catalog = firedBy?.events
    const definition = catalog ? findDefinition(catalog, event.name) : undefined
    if (catalog && !definition) {
      const err = new UnknownEventError(event.name, actorTypeOf(firedBy), Object.keys(catalog))
      if (!event.actor) err.message += '; an event that another class fired on this stream names it: { name, data, actor: ThatClass }'
      throw err
    }
    const data = definition ? validateEventData(definition, event.data) : event.data
    const stored: NewEvent = {
      id: container.ids(),
      name: event.name,
      data,
      schemaVersion: definition?.version ?? 1,
      at: event.at ?? container.clock.now(),
      meta: { actorType: event.actor ? actorTypeOf(event.actor) : 'Given' },
    }
    await container.store.append(event.streamId ?? id, [stored], { expectedVersion: 'any' })
  }
}

function actorTypeOf(c: FiringClass): string {
  return c.actorType ?? c.name
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
export function Given<const G extends readonly GivenEvent[] = readonly []>(
  description: string,
  events?: G,
  options: GivenOptions = {},
): Scenario<TestableActor, AnyEventCatalog, G> {
  return new Scenario({ description, given: events ?? [], options })
}

/**
 * The scenario's store, left open when its container closes so that `result.container.store`
 * can still be read: closing the container stops the actors, read models and listeners, which
 * close their subscriptions, and a MemoryStore holds nothing else that keeps a process alive.
 */
function readableAfterClose(store: MemoryStore): MemoryStore {
  return new Proxy(store, { get: (target, key): unknown => (key === 'close' ? async () => {} : Reflect.get(target, key, target)) })
}
