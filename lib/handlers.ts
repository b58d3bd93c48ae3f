import type { AppliedEvent } from './envelope.js'
import { MisspeltHandlerError } from './errors.js'
import type { AnyEventCatalog, EventData, EventName } from './events.js'

/**
 * The handler methods an actor class owes its events, for `implements`: the compiler then
 * checks each handler's name and the type of its `data` against `static events`. Every event
 * needs a handler, except those listed in `Unhandled` (events that change no state).
 *
 * @example
 * class Cart extends Actor<typeof CartEvents, CartState> implements Handlers<typeof CartEvents, 'viewed'> {
 *   static events = CartEvents
 *   item_added(data: EventData<typeof CartEvents, 'item_added'>) { ... }  // a typo or a wrong type fails to compile
 *   checked_out() { ... }
 * }
 */
export type Handlers<C extends AnyEventCatalog, Unhandled extends EventName<C> = never> = {
  // Properties of function type, not method signatures: their parameters are checked strictly
  // (a method signature would accept a handler declared with an unrelated data type).
  readonly [K in Exclude<EventName<C>, Unhandled>]: (data: EventData<C, K>, event: AppliedEvent<K, EventData<C, K>>) => void
} & {
  readonly [K in Unhandled]?: (data: EventData<C, K>, event: AppliedEvent<K, EventData<C, K>>) => void
}

/** A handler method as the framework calls it: the event's (upcast) data, and its envelope. */
export type HandlerMethod<E = unknown> = (data: unknown, event: E) => unknown

/** Finds the handler methods of one kind of class (actors, read models, projections). */
export interface HandlerLookup<H extends HandlerMethod<never> = HandlerMethod> {
  /** Marks every member of a framework base class's prototype as never being a handler. */
  reserve(prototype: object): void
  /** True for a name that is a framework member of this kind, never a handler. */
  readonly isReserved: (name: string) => boolean
  /** The method of `instance` named after the event, if its class has one that is not reserved. */
  of(instance: object, name: string): H | undefined
}

/**
 * The handler lookup of one kind of class. Each kind keeps its own reserved names (its base
 * classes' members, plus `reserved`), so a read model's `find` never hides a projection's
 * handler of an event called `find`. Lookups are cached per class.
 *
 * @example
 * const handlers = handlerLookup<(data: unknown, event: EventEnvelope) => unknown>()
 * handlers.reserve(ReadModel.prototype)
 * handlers.of(model, 'Followed')?.call(model, data, event)
 */
export function handlerLookup<H extends HandlerMethod<never> = HandlerMethod>(reserved: Iterable<string> = []): HandlerLookup<H> {
  const names = new Set<string>(reserved)
  const cache = new WeakMap<object, Map<string, H | null>>()
  return {
    reserve(prototype) {
      for (const name of Object.getOwnPropertyNames(prototype)) names.add(name)
    },
    isReserved: (name) => names.has(name),
    of(instance, name) {
      const ctor = instance.constructor
      let handlers = cache.get(ctor)
      if (!handlers) cache.set(ctor, (handlers = new Map<string, H | null>()))
      let handler = handlers.get(name)
      if (handler === undefined) {
        const candidate = (instance as Record<string, unknown>)[name]
        handler = typeof candidate === 'function' && !names.has(name) ? (candidate as H) : null
        handlers.set(name, handler)
      }
      return handler ?? undefined
    },
  }
}

const checked = new WeakMap<object, WeakSet<object>>()

/**
 * Reports, once per class and `scope` (a container), every method whose name is one edit
 * (insertion, deletion, substitution or transposition) away from an event name. Names that
 * differ only in case are commands by convention (`Tick()` fires `tick`), and names shorter
 * than five letters are left alone: one edit is too large a part of them to mean a typo.
 */
export function reportMisspeltHandlers(
  actor: object,
  actorType: string,
  catalog: AnyEventCatalog,
  isFrameworkMember: (name: string) => boolean,
  scope: object,
  report: (err: MisspeltHandlerError) => void,
): void {
  const ctor = actor.constructor
  let classes = checked.get(scope)
  if (!classes) checked.set(scope, (classes = new WeakSet()))
  if (classes.has(ctor)) return
  classes.add(ctor)
  const events = Object.keys(catalog).filter((name) => name.length >= 5)
  for (const method of methodNames(actor)) {
    if (isFrameworkMember(method) || Object.hasOwn(catalog, method)) continue
    const event = events.find((name) => name.toLowerCase() !== method.toLowerCase() && withinOneEdit(name, method))
    if (event) report(new MisspeltHandlerError(actorType, method, event))
  }
}

// Own methods of the class and of its user-written ancestors. Descriptors, not property reads:
// reading a getter here would run user code.
function methodNames(actor: object): Set<string> {
  const names = new Set<string>()
  for (let proto = Object.getPrototypeOf(actor) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function') names.add(name)
    }
  }
  return names
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true // one substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2) // one transposition
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1) // one insertion or deletion
}
