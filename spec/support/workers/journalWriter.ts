// Holds the Journal OneActor and fires entries one after the other for ever, printing each
// resolved Fire and each change of leadership (with the wall-clock time).
import { createContainer, LeaseLostError } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { Journal } from '../Journal.js'

const [file, label] = process.argv.slice(2) as [string, string]
const store = openStore(file)
const journal = await new Journal('journal', createContainer({ store, report: () => {} })).Load()
let leading = -1
setInterval(() => {
  const term = journal.Term
  if (term === leading) return
  leading = term
  console.log(term > 0 ? `leader ${term} ${Date.now()}` : `follower ${Date.now()}`)
}, 5)
console.log('ready')
for (let n = 0; ; n++) {
  const id = `${label}-${n}`
  for (;;) {
    try {
      const stored = await journal.Fire('entry', { by: label, n }, { id })
      console.log(`resolved ${id} ${stored.version} ${Date.now()} ${String(stored.meta.term)}`)
      break
    } catch (err) {
      // Fenced: nothing was stored, so the same id may be sent again (now as a proposal).
      if (err instanceof LeaseLostError) continue
      console.log(`failed ${id} ${(err as Error).name}`)
      break
    }
  }
  await new Promise((r) => setTimeout(r, 5))
}
