import { isOmniscientError, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { RethinkStore } from 'omniscient-actors/rethinkdb'

/**
 * A probe process's store (PostgreSQL or RethinkDB, by the URL), printing every call that
 * returns a promise as `call <method> <startMs> <endMs> ok|<code>` (spec/support/faults/History.ts).
 */
export function recordedStore(url: string, namespace: string): StorageAdapter {
  const inner: StorageAdapter = url.startsWith('postgres') ? new PgStore({ connectionString: url, schema: namespace }) : new RethinkStore({ url, tablePrefix: namespace })
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args)
        if (!(result instanceof Promise)) return result
        const start = Date.now()
        const print = (outcome: string) => console.log(`call ${String(key)} ${start} ${Date.now()} ${outcome}`)
        result.then(() => print('ok'), (err: unknown) => print(isOmniscientError(err) ? err.code : 'error'))
        return result
      }
    },
  })
}
