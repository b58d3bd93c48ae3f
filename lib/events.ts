import type { z } from 'zod'
import { EventValidationError } from './errors.js'
import { assertJsonSafeSchema, type JsonSafeSpecs } from './jsonSafeSchema.js'
import { dataFaultError, findDataFault } from './safeData.js'

/** Lifts data stored under schema version `n` to the shape of version `n + 1`. */
export type Upcaster = (data: unknown) => unknown

/** The long form of an event definition: a schema, its version, and how to lift older shapes. */
export interface EventSpecObject<S extends z.ZodType = z.ZodType> {
  readonly schema: S
  /** The schema version events are written with. Defaults to 1. */
  readonly version?: number
  /** `upcast[n]` lifts data written under version `n` to version `n + 1`. */
  readonly upcast?: Readonly<Record<number, Upcaster>>
}

/** A zod schema alone (version 1), or the long form with a version and upcasters. */
export type EventSpec = z.ZodType | EventSpecObject

type SchemaOf<T> = T extends EventSpecObject<infer S> ? S : T extends z.ZodType ? T : never

/** One event's definition, as `defineEvents` returns it. */
export interface EventDefinition<TName extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: TName
  readonly schema: S
  readonly version: number
  readonly upcast: Readonly<Record<number, Upcaster>>
}

/** The events of an actor class, keyed by name. */
export type EventCatalog<T extends Record<string, EventSpec> = Record<string, EventSpec>> = {
  readonly [K in keyof T & string]: EventDefinition<K, SchemaOf<T[K]>>
}

/** Any catalog, whatever its events. */
export type AnyEventCatalog = { readonly [name: string]: EventDefinition }

/** The event names of a catalog. */
export type EventName<C extends AnyEventCatalog> = keyof C & string

/**
 * The data a caller passes to `Fire(name, data)`: the schema's input shape (before defaults
 * and transforms).
 */
export type EventInput<C extends AnyEventCatalog, K extends EventName<C>> = z.input<C[K]['schema']>

/**
 * The data a handler receives, on Fire and on replay alike: the schema's output shape, which
 * is what is stored (`defineEvents` refuses outputs JSON cannot give back).
 */
export type EventData<C extends AnyEventCatalog, K extends EventName<C>> = z.output<C[K]['schema']>

/** Each event's output (handler) type, to check that JSON storage gives it back. */
type OutputsOf<T extends Record<string, EventSpec>> = { [K in keyof T]: z.output<SchemaOf<T[K]>> }

/**
 * Declares a set of events: each name with its zod schema, and optionally a schema version and
 * upcasters for data stored under older versions.
 *
 * Event data is stored as JSON and a handler receives it as stored, on Fire and on replay
 * alike. A schema whose output JSON cannot give back as it was (`z.date()`, `z.map()`,
 * `z.set()`, `z.bigint()`, a codec decoding to a Date, a transform returning one...) is
 * refused: at compile time by its type, and with a TypeError naming the field and what to use
 * instead (`z.iso.datetime()` for a date) at run time.
 *
 * @example
 * const UserEvents = defineEvents({
 *   signup: z.object({ username: z.string(), password: z.string() }),
 *   renamed: { schema: z.object({ fullName: z.string() }), version: 2,
 *              upcast: { 1: (old) => ({ fullName: (old as { name: string }).name }) } },
 * })
 */
export function defineEvents<const T extends Record<string, EventSpec>>(specs: T & JsonSafeSpecs<T, OutputsOf<T>>): EventCatalog<T> {
  const catalog: Record<string, EventDefinition> = {}
  for (const [name, spec] of Object.entries(specs as Record<string, EventSpec>)) {
    const long: EventSpecObject = isSpecObject(spec) ? spec : { schema: spec }
    assertJsonSafeSchema(name, long.schema)
    const version = long.version ?? 1
    if (!Number.isInteger(version) || version < 1) {
      throw new TypeError(`event "${name}": schema version must be a whole number >= 1, got ${String(version)}`)
    }
    const upcast = long.upcast ?? {}
    for (let v = 1; v < version; v++) {
      if (typeof upcast[v] !== 'function') {
        throw new TypeError(`event "${name}" is at version ${version} but has no upcaster from version ${v}`)
      }
    }
    catalog[name] = Object.freeze({ name, schema: long.schema, version, upcast })
  }
  return Object.freeze(catalog) as EventCatalog<T>
}

function isSpecObject(spec: EventSpec): spec is EventSpecObject {
  return typeof spec === 'object' && spec !== null && 'schema' in spec && !('_zod' in spec)
}

/** The definition of `name` in `catalog`, or undefined; never a prototype property. */
export function findDefinition(catalog: AnyEventCatalog, name: string): EventDefinition | undefined {
  return Object.hasOwn(catalog, name) ? catalog[name] : undefined
}

/**
 * Validates data against an event's schema and refuses prototype-polluting keys. Returns the
 * parsed data (zod defaults applied, unknown object keys stripped).
 */
export function validateEventData(definition: EventDefinition, data: unknown): unknown {
  // The input is checked, not zod's output: zod assigns `__proto__` keys, so they would
  // vanish from the output (having already replaced its prototype) and pass unnoticed. Cycles
  // and deep nesting are refused here too, before zod recurses into them.
  const fault = findDataFault(data, false)
  if (fault) throw dataFaultError(definition.name, fault)
  const result = definition.schema.safeParse(data)
  if (!result.success) throw EventValidationError.fromZod(definition.name, result.error)
  return result.data
}

/**
 * Lifts stored data from the schema version it was written with to the current one, and
 * validates the result. Data already at the current version is returned as it is: it was
 * validated when it was fired.
 */
export function upcastEventData(definition: EventDefinition, data: unknown, storedVersion: number): unknown {
  if (storedVersion === definition.version) return data
  if (storedVersion > definition.version) {
    throw new EventValidationError(definition.name, [], `it was stored at schema version ${storedVersion}, but this code only knows versions up to ${definition.version}`)
  }
  let lifted = data
  for (let v = storedVersion; v < definition.version; v++) {
    const step = definition.upcast[v]
    if (!step) throw new EventValidationError(definition.name, [], `no upcaster from schema version ${v}`)
    lifted = step(lifted)
  }
  return validateEventData(definition, lifted)
}
