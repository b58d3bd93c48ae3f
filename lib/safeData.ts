import { EventValidationError, UnserializableDataError } from './errors.js'

// Keys that let data reach an object's prototype when a handler merges it into state
// (Object.assign, deep-merge helpers). Own properties with these names are refused on write
// and dropped on read.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * How deep event data may nest (the data itself is depth 0). Deeper data is refused: walking it
 * (here, in zod, in JSON.stringify) recurses once per level, and past a few thousand levels that
 * is a stack overflow instead of an answer. 64 is far past what a domain event needs.
 */
export const MAX_DATA_DEPTH = 64

/** What is wrong with a value, and where: a forbidden key, or something JSON cannot keep. */
export interface DataFault {
  readonly kind: 'forbidden_key' | 'not_json'
  readonly path: PropertyKey[]
  readonly reason: string
}

/**
 * The first fault in `value`, or undefined. Always: forbidden keys, nesting past
 * `MAX_DATA_DEPTH`, cycles. With `json`, also what JSON would change or cannot write: BigInt,
 * functions, symbols, `NaN`/`Infinity`, `undefined` in an array, non-plain objects (Map, Set,
 * class instances) without `toJSON`. Without `json` (data before its schema parsed it), those
 * are left to the schema, which may turn them into plain values. Without `keys`, forbidden keys
 * pass (a store keeps them; they are dropped when read back).
 */
export function findDataFault(value: unknown, json: boolean, keys = true): DataFault | undefined {
  // Scalars, the usual top level of small events, need no walk at all.
  if (typeof value !== 'object' || value === null) return json ? scalarFault(value) : undefined
  return walk(value, 0, json, keys, [])
}

function scalarFault(node: unknown): DataFault | undefined {
  switch (typeof node) {
    case 'number':
      return Number.isFinite(node) ? undefined : notJson(`${node} is not a JSON number`)
    case 'bigint':
      return notJson('a BigInt has no JSON form (send it as a string)')
    case 'function':
    case 'symbol':
      return notJson(`a ${typeof node} has no JSON form`)
    default:
      return undefined
  }
}

// A plain recursive function (no closure, no try/finally): it runs on every Fire and append.
// The path is built on the way back out, so the common (clean) case allocates nothing but the
// ancestors' stack.
function walk(object: object, depth: number, json: boolean, keys: boolean, ancestors: object[]): DataFault | undefined {
  if (depth >= MAX_DATA_DEPTH) {
    return ancestors.includes(object) ? notJson('the data refers to itself (a cycle)') : notJson(`the data nests deeper than ${MAX_DATA_DEPTH} levels`)
  }
  const isArray = Array.isArray(object)
  if (json && !isArray) {
    const toJSON = (object as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') {
      const replaced: unknown = (toJSON as (key: string) => unknown).call(object, '')
      return typeof replaced === 'object' && replaced !== null ? walk(replaced, depth, json, keys, ancestors) : scalarFault(replaced)
    }
    const proto = Object.getPrototypeOf(object) as unknown
    if (proto !== Object.prototype && proto !== null) {
      const kind = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'non-plain'
      return notJson(`a ${kind} object would lose its contents or its type in JSON`)
    }
  }
  ancestors.push(object)
  let fault: DataFault | undefined
  if (isArray) {
    const array = object as unknown[]
    for (let i = 0; i < array.length && !fault; i++) {
      const item = array[i]
      if (typeof item === 'object' && item !== null) fault = walk(item, depth + 1, json, keys, ancestors)
      else if (json) fault = item === undefined ? notJson('undefined in an array becomes null in JSON') : scalarFault(item)
      if (fault) fault.path.unshift(i)
    }
  } else {
    const record = object as Record<string, unknown>
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue
      if (keys && FORBIDDEN.has(key)) {
        fault = { kind: 'forbidden_key', path: [key], reason: `key "${key}" is not allowed in event data` }
        break
      }
      const item = record[key]
      if (typeof item === 'object' && item !== null) fault = walk(item, depth + 1, json, keys, ancestors)
      else if (json) fault = scalarFault(item)
      if (fault) {
        fault.path.unshift(key)
        break
      }
    }
  }
  ancestors.pop()
  return fault
}

function notJson(reason: string): DataFault {
  return { kind: 'not_json', path: [], reason }
}


/** The error an event's data fault is refused with: `EVENT_VALIDATION` for a forbidden key, else `UNSERIALIZABLE`. */
export function dataFaultError(eventName: string, fault: DataFault): EventValidationError {
  if (fault.kind === 'forbidden_key') return new EventValidationError(eventName, [{ path: fault.path, code: 'forbidden_key', message: fault.reason }])
  return new UnserializableDataError(eventName, fault.path, fault.reason)
}

/**
 * The data as replay will see it (through JSON), or `UnserializableDataError` when JSON would
 * change it or cannot write it: what a handler is given on Fire is then what it is given on
 * replay.
 *
 * @example
 * const stored = storedData('moved', { x: 1 })  // { x: 1 }, a copy
 * storedData('moved', { x: 1n })                // throws UnserializableDataError (code UNSERIALIZABLE)
 */
export function storedData(eventName: string, data: unknown): unknown {
  if (data === undefined) return undefined
  const fault = findDataFault(data, true)
  if (fault) throw dataFaultError(eventName, fault)
  return JSON.parse(JSON.stringify(data))
}

function dropForbidden(this: unknown, key: string, value: unknown): unknown {
  return FORBIDDEN.has(key) ? undefined : value
}

/**
 * JSON.parse for data read back from a store. Only when the text mentions a forbidden key is
 * the slower reviver used, so replay keeps its speed.
 */
export function parseStoredJson(text: string): unknown {
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('prototype')) {
    return JSON.parse(text, dropForbidden)
  }
  return JSON.parse(text)
}
