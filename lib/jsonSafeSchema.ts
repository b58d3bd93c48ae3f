import type { z } from 'zod'

// Event data is stored as JSON, and a handler must receive the same value on Fire and on
// replay, with the type its schema declares. A schema whose output JSON cannot hold (a Date
// comes back a string, a Map or a Set an empty object, a bigint not at all) is refused when
// the events are defined, at compile time where the type says so and at run time by the
// schema's kind, with what to use instead.

const INSTEAD: Readonly<Record<string, string>> = {
  date: 'z.iso.datetime() (an ISO string; make it a Date in the handler)',
  map: 'z.record() or an array of [key, value] pairs',
  set: 'z.array()',
  bigint: 'z.string() (or z.number().int() within the safe range)',
  symbol: 'a string',
  function: 'nothing: functions cannot be stored',
  promise: 'the awaited value',
  file: 'a string (a URL or base64 text)',
  nan: 'z.null() or z.number()',
}

interface Def {
  readonly type: string
  readonly [key: string]: unknown
}

const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def

/**
 * Throws a TypeError when the schema's output holds a kind of value JSON cannot give back,
 * naming the event, the field and what to use instead. Transforms are judged by their type
 * only (compile time): their output is not known before they run.
 */
export function assertJsonSafeSchema(eventName: string, schema: z.ZodType): void {
  const seen = new Set<unknown>()
  const visit = (node: unknown, path: readonly string[]): void => {
    if (seen.has(node)) return
    seen.add(node)
    const def = defOf(node)
    const instead = INSTEAD[def.type]
    if (instead) {
      const field = path.length > 0 ? `field "${path.join('.')}"` : 'data'
      throw new TypeError(
        `event "${eventName}": its ${field} is a z.${def.type}(), which JSON storage cannot give back as it was fired; use ${instead} instead`,
      )
    }
    switch (def.type) {
      case 'object':
        for (const [key, child] of Object.entries(def['shape'] as Record<string, unknown>)) visit(child, [...path, key])
        if (def['catchall']) visit(def['catchall'], [...path, '*'])
        return
      case 'array':
        return visit(def['element'], [...path, '[]'])
      case 'tuple':
        ;(def['items'] as unknown[]).forEach((item, i) => visit(item, [...path, String(i)]))
        if (def['rest']) visit(def['rest'], [...path, '[]'])
        return
      case 'record':
        return visit(def['valueType'], [...path, '*'])
      case 'union':
        for (const option of def['options'] as unknown[]) visit(option, path)
        return
      case 'intersection':
        visit(def['left'], path)
        return visit(def['right'], path)
      case 'pipe':
        // What the handler receives is the output side (a codec's decoded value).
        return visit(def['out'], path)
      case 'lazy':
        return visit((def['getter'] as () => unknown)(), path)
      case 'optional':
      case 'nullable':
      case 'nonoptional':
      case 'default':
      case 'prefault':
      case 'catch':
      case 'readonly':
        return visit(def['innerType'], path)
      default:
        return
    }
  }
  visit(schema, [])
}

/** Values JSON storage cannot give back as they were. */
type NotJson = Date | bigint | symbol | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | ((...args: never[]) => unknown) | PromiseLike<unknown>

type Depth = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8]

/** True when some value of T (looked at 9 levels deep) is one JSON cannot give back. */
export type HoldsNonJson<T, D extends number = 9> = [D] extends [never]
  ? false
  : 0 extends 1 & T
    ? false // any
    : [T] extends [never]
      ? false
      : true extends (T extends NotJson ? true : T extends object ? { [K in keyof T]-?: HoldsNonJson<T[K], Depth[D]> }[keyof T] : false)
        ? true
        : false

/**
 * The compile-time half of the check: an event whose schema output holds a Date, Map, Set,
 * bigint, symbol, function or promise makes `defineEvents` fail to compile, with this key in
 * the message.
 */
export type JsonSafeSpecs<T, Output extends Record<keyof T, unknown>> = {
  readonly [K in keyof T]: true extends HoldsNonJson<Output[K]>
    ? T[K] & { readonly 'event data must survive JSON: use z.iso.datetime() for dates, arrays or records for sets and maps, strings for bigints': never }
    : T[K]
}
