import type { StorageAdapter } from 'omniscient-actors'

type Method = 'acquireLease' | 'renewLease' | 'releaseLease' | 'append' | 'readStream' | 'headPosition'

/**
 * A link to `store` that can go silent, as a partitioned network does: while silent, the
 * calls named in `methods` never answer (they are held, not failed) until `speak()`. `sent`
 * counts the calls made through it, by method.
 */
export function silentLink(store: StorageAdapter, methods: readonly Method[] = ['acquireLease', 'renewLease', 'releaseLease', 'append']) {
  let silent: Promise<void> | undefined
  let speak = () => {}
  const sent: Record<string, number> = {}
  const held = new Set<PropertyKey>(methods)
  const link = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown
      if (typeof value !== 'function') return value
      const fn = (value as (...args: unknown[]) => unknown).bind(target)
      if (!held.has(prop)) return fn
      return async (...args: unknown[]) => {
        sent[String(prop)] = (sent[String(prop)] ?? 0) + 1
        if (silent) await silent
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
  }
}
