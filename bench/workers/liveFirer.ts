// One process of the contention bench: fires `count` events on LiveActor `id` as fast as it
// can, starting when the go file appears, and prints how long it took.
import { existsSync } from 'node:fs'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Tally } from '../../spec/support/Tally.js'

const [file, id, label, countText, goFile] = process.argv.slice(2) as [string, string, string, string, string]
const store = new SqliteStore({ file })
const tally = await new Tally(id, createContainer({ store })).Load()
console.log('ready')
while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 1))
const start = performance.now()
for (let n = 0; n < Number(countText); n++) await tally.Fire('counted', { by: label, n })
console.log(`took ${performance.now() - start}`)
await tally.Stop()
await store.close()
