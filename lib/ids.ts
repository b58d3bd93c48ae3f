import { randomUUID } from 'node:crypto'

/** Makes the globally unique ids of new events. Injected so tests can make them predictable. */
export type IdGenerator = () => string

/** Random UUIDs (v4). @example createContainer({ ids: randomIds }) */
export const randomIds: IdGenerator = () => randomUUID()

/**
 * Ids `prefix-1`, `prefix-2`, ... for tests that assert on ids.
 *
 * @example createContainer({ ids: sequentialIds('evt') })
 */
export function sequentialIds(prefix = 'id'): IdGenerator {
  let n = 0
  return () => `${prefix}-${++n}`
}
