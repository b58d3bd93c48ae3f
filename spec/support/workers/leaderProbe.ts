// A OneActor instance for the partition specs: prints every change of its believed leadership
// and every Fire's outcome, each with this process's clock, one line each:
//   lead <term> <ms> | follow <ms>
//   fire <id> <startMs> <endMs> <leading at start: 1|0> ok <version> <term> | ... err <code>
//   call <method> <startMs> <endMs> ok|<code>      (every store call that returns a promise)
import { createContainer, isOmniscientError } from 'omniscient-actors'
import { leadershipPrinter } from '../faults/leadershipPrinter.js'
import { recordedStore } from '../faults/recordedStore.js'
import { Journal } from '../Journal.js'

const [url, namespace, label] = process.argv.slice(2) as [string, string, string]
const store = recordedStore(url, namespace)
const journal = await new Journal('journal', createContainer({ store, report: () => {} })).Load()
const watch = leadershipPrinter(journal)
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
