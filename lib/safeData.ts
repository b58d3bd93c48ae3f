// Keys that let data reach an object's prototype when a handler merges it into state
// (Object.assign, deep-merge helpers). Own properties with these names are refused on write
// and dropped on read.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/** The path of the first forbidden key inside `value`, or undefined when there is none. */
export function findForbiddenKey(value: unknown): PropertyKey[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  for (const key of Object.keys(value)) {
    if (FORBIDDEN.has(key)) return [key]
    // The path is built on the way back out, so the common (clean) case allocates nothing.
    const below = findForbiddenKey((value as Record<string, unknown>)[key])
    if (below) return [key, ...below]
  }
  return undefined
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
