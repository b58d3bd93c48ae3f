/**
 * Placeholders a user may write in expected data instead of a value they cannot know in
 * advance (a generated token, a timestamp).
 */
export const PLACEHOLDERS: Readonly<Record<string, (value: unknown) => boolean>> = {
  '{any}': () => true,
  '{string}': (v) => typeof v === 'string',
  '{number}': (v) => typeof v === 'number' && !Number.isNaN(v),
  '{boolean}': (v) => typeof v === 'boolean',
  '{object}': (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  '{array}': (v) => Array.isArray(v),
}

function isPlaceholder(value: unknown): value is string {
  return typeof value === 'string' && Object.hasOwn(PLACEHOLDERS, value)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Rewrites `actual` so that it can be deep-compared with `expected`: where `expected` holds a
 * placeholder that the actual value satisfies, the placeholder is copied in. What does not
 * match stays as it was, so the assertion's diff shows exactly what differs.
 *
 * With `subset`, object keys that `expected` does not mention are left out (AndState);
 * otherwise they are kept and show up in the diff (event data).
 */
export function alignWithExpected(actual: unknown, expected: unknown, subset: boolean): unknown {
  if (isPlaceholder(expected)) return PLACEHOLDERS[expected]!(actual) ? expected : actual
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return (actual as unknown[]).map((item, i) => (i < expected.length ? alignWithExpected(item, expected[i], subset) : item))
  }
  if (isRecord(expected) && isRecord(actual)) {
    const keys = subset ? Object.keys(expected).filter((k) => Object.hasOwn(actual, k)) : Object.keys(actual)
    const aligned: Record<string, unknown> = {}
    for (const key of keys) {
      aligned[key] = Object.hasOwn(expected, key) ? alignWithExpected(actual[key], expected[key], subset) : actual[key]
    }
    return aligned
  }
  return actual
}
