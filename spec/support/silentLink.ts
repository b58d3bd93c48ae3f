import { StorageError, type StorageAdapter } from 'omniscient-actors'

type Method = 'acquireLease' | 'renewLease' | 'releaseLease' | 'append' | 'readStream' | 'headPosition'

/**
 * A link to `store` that can go silent, as a partitioned network does: while silent, the
 * calls named in `methods` never answer (they are held, not failed) until `speak()`. `sent`
 * counts the calls made through it, by method. `fail(method)` makes the next call of `method`
 * fail at once with `STORAGE_UNAVAILABLE`, silent or not, before it reaches the store (a
 * dropped connection).
 */
export function silentLink(store: StorageAdapter, methods: readonly Method[] = ['acquireLease', 'renewLease', 'releaseLease', 'append']) {
  let silent: Promise<void> | undefined
  let speak = () => {}
  const sent: Record<string, number> = {}
  const held = new Set<PropertyKey>(methods)
  const failing = new Set<PropertyKey>()
  // What a call through the link goes through first: counted, failed once, or held while silent.
  const pass = async (prop: PropertyKey) => {
    if (held.has(prop)) sent[String(prop)] = (sent[String(prop)] ?? 0) + 1
    if (failing.delete(prop)) throw new StorageError(`${String(prop)}: the connection dropped (silentLink)`, { code: 'STORAGE_UNAVAILABLE' })
    if (held.has(prop) && silent) await silent
  }
  const link = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown
      if (typeof value !== 'function') return value
      const fn = (value as (...args: unknown[]) => unknown).bind(target)
      if (!held.has(prop) && !failing.has(prop)) return fn
      if (prop === 'readStream') {
        return async function* (...args: unknown[]) {
          await pass(prop)
          yield* fn(...args) as AsyncIterable<unknown>
        }
      }
      return async (...args: unknown[]) => {
        await pass(prop)
        return fn(...args)
      }
    },
  })
  return {
    store: link,
    sent,
    silence(): void {
      silent ??= new Promise<void>((r) => (speak = r))
    },
    speak(): void {
      silent = undefined
      speak()
    },
    fail(method: Method): void {
      failing.add(method)
    },
  }
}
