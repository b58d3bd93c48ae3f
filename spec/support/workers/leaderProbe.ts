// A OneActor instance for the partition specs: prints every change of its believed leadership
// and every Fire's outcome, each with this process's clock, one line each:
//   lead <term> <ms> | follow <ms>
//   fire <id> <startMs> <endMs> <leading at start: 1|0> ok <version> <term> | ... err <code>
//   call <method> <startMs> <endMs> ok|<code>      (every store call that returns a promise)
import { createContainer, isOmniscientError, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { Journal } from '../Journal.js'

const [url, namespace, label] = process.argv.slice(2) as [string, string, string]
const inner: StorageAdapter = url.startsWith('postgres') ? new PgStore({ connectionString: url, schema: namespace }) : new RethinkStore({ url, tablePrefix: namespace })
// Each call's time and outcome, as the actor sees them.
const store = new Proxy(inner, {
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
const journal = await new Journal('journal', createContainer({ store, report: () => {} })).Load()
let believed = -1
const watch = () => {
  const term = journal.IsLeader ? journal.Term : 0
  if (term === believed) return
  believed = term
  console.log(term > 0 ? `lead ${term} ${Date.now()}` : `follow ${Date.now()}`)
}
setInterval(watch, 2)
watch()
console.log('ready')
for (let n = 0; ; n++) {
  const id = `${label}-${n}`
  const leading = journal.IsLeader ? 1 : 0
  const start = Date.now()
  try {
    const stored = await journal.Fire('entry', { by: label, n }, { id })
    console.log(`fire ${id} ${start} ${Date.now()} ${leading} ok ${stored.version} ${String(stored.meta.term)}`)
  } catch (err) {
    console.log(`fire ${id} ${start} ${Date.now()} ${leading} err ${isOmniscientError(err) ? err.code : (err as Error).name}`)
  }
  await new Promise((r) => setTimeout(r, 20))
}
