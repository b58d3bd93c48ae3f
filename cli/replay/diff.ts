/** One difference between two JSON values, at a path of keys and indexes. */
export interface Change {
  readonly path: ReadonlyArray<string | number>
  readonly kind: 'added' | 'removed' | 'changed'
  readonly before?: unknown
  readonly after?: unknown
}

/**
 * The differences between two JSON-like values: objects by key, arrays by index, anything
 * else by value. A change of type (object to array, number to object...) is one change.
 *
 * @example
 * diff({ total: 1, tags: ['a'] }, { total: 3, tags: ['a', 'b'] })
 * // [{ path: ['tags', 1], kind: 'added', after: 'b' }, { path: ['total'], kind: 'changed', before: 1, after: 3 }]
 */
export function diff(before: unknown, after: unknown, path: ReadonlyArray<string | number> = []): Change[] {
  if (Object.is(before, after)) return []
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: Change[] = []
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      if (i >= after.length) changes.push({ path: [...path, i], kind: 'removed', before: before[i] })
      else if (i >= before.length) changes.push({ path: [...path, i], kind: 'added', after: after[i] })
      else changes.push(...diff(before[i], after[i], [...path, i]))
    }
    return changes
  }
  if (isRecord(before) && isRecord(after)) {
    const changes: Change[] = []
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    for (const key of keys) {
      if (!(key in after)) changes.push({ path: [...path, key], kind: 'removed', before: before[key] })
      else if (!(key in before)) changes.push({ path: [...path, key], kind: 'added', after: after[key] })
      else changes.push(...diff(before[key], after[key], [...path, key]))
    }
    return changes
  }
  return [{ path, kind: 'changed', before, after }]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `items.apple`, `tags[1]`; the root is `(state)`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(state)'
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? (i === 0 ? p : `.${p}`) : `[${JSON.stringify(p)}]`)).join('')
}

/** One line per change: `+ path: value`, `- path: value`, `~ path: before -> after`. */
export function formatChanges(changes: readonly Change[]): string[] {
  return changes.map((c) => {
    const at = formatPath(c.path)
    if (c.kind === 'added') return `+ ${at}: ${JSON.stringify(c.after)}`
    if (c.kind === 'removed') return `- ${at}: ${JSON.stringify(c.before)}`
    return `~ ${at}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`
  })
}
