import type { EventEnvelope } from '../envelope.js'

/** A handler method: the event's (upcast) data, and its envelope. */
export type EventHandler = (data: unknown, event: EventEnvelope) => unknown

// Members of the framework's base classes are never handlers, even when an event shares a name.
const reserved = new Set<string>(Object.getOwnPropertyNames(Object.prototype))
const cache = new WeakMap<object, Map<string, EventHandler | null>>()

/** Marks every member of a base class's prototype as not a handler. */
export function reserveMembers(prototype: object): void {
  for (const name of Object.getOwnPropertyNames(prototype)) reserved.add(name)
}

/** The method named after the event, if the instance's class has one. */
export function handlerOf(instance: object, name: string): EventHandler | undefined {
  const ctor = instance.constructor
  let handlers = cache.get(ctor)
  if (!handlers) cache.set(ctor, (handlers = new Map<string, EventHandler | null>()))
  let handler = handlers.get(name)
  if (handler === undefined) {
    const candidate = (instance as Record<string, unknown>)[name]
    handler = typeof candidate === 'function' && !reserved.has(name) ? (candidate as EventHandler) : null
    handlers.set(name, handler)
  }
  return handler ?? undefined
}
