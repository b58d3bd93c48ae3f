// Fires `count` events on one LiveActor id, racing other processes, then waits until it has
// followed every process's events (`expectTotal`) and prints its state's order as JSON.
import { createHash } from 'node:crypto'
import { createContainer } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { awaitGo } from '../processes.js'
import { Tally } from '../Tally.js'

const [file, id, label, countText, expectText, goFile] = process.argv.slice(2) as [string, string, string, string, string, string]
const store = openStore(file)
const container = createContainer({ store })
const tally = await new Tally(id, container).Load()
await awaitGo(goFile)
for (let n = 0; n < Number(countText); n++) await tally.Fire('counted', { by: label, n })
const expectTotal = Number(expectText)
while (tally.version < expectTotal) await new Promise((r) => setTimeout(r, 5))
const digest = createHash('sha256').update(JSON.stringify(tally._state)).digest('hex')
console.log(`state ${tally.version} ${digest}`)
await tally.Stop()
await store.close()
