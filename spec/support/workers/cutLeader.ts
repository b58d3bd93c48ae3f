// Holds the Journal OneActor through a link to the store that goes silent (lease calls and
// appends never answer) once the file `cutFile` exists, as a partitioned process would. Prints
// each change of leadership with the wall-clock time, and on following the instant its
// leadership ended by its own rule (the lease's local expiry).
import { existsSync } from 'node:fs'
import { createContainer } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { Journal } from '../Journal.js'
import { silentLink } from '../silentLink.js'

const [target, label, cutFile] = process.argv.slice(2) as [string, string, string]
const link = silentLink(openStore(target))
const journal = await new Journal('journal', createContainer({ store: link.store, report: () => {} })).Load()
const keeper = (journal as unknown as { keeper: { expiresAt: number; term: number } }).keeper
let leading = 0
let expiresAt = 0
let cut = false
setInterval(() => {
  if (!cut && existsSync(cutFile)) {
    cut = true
    link.silence()
    console.log(`cut ${Date.now()}`)
  }
  // Read every 5 ms: the last value seen before following is when its leadership ended.
  if (keeper.expiresAt > 0) expiresAt = keeper.expiresAt
  const term = keeper.term
  if (term === leading) return
  console.log(term > 0 ? `leader ${term} ${Date.now()}` : `following ${leading} ${Date.now()} ${expiresAt}`)
  leading = term
}, 5)
await journal.Fire('entry', { by: label, n: 0 }, { id: `${label}-0` })
console.log('ready')
