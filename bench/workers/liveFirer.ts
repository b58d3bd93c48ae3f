// One process of the contention bench: fires `count` events on LiveActor `id` as fast as it
// can, starting when the go file appears, and prints how long it took, how long each Fire
// waited and how many races each one lost (a writer that starves shows in both).
import { existsSync } from 'node:fs'
import { createContainer, isConcurrencyError, SqliteStore } from 'omniscient-actors'
import { Tally } from '../../spec/support/Tally.js'

const [file, id, label, countText, goFile] = process.argv.slice(2) as [string, string, string, string, string]
const store = new SqliteStore({ file })
// Fires run one at a time here, so every conflict between a Fire's start and end is its own.
let lost = 0
const append = store.append.bind(store)
store.append = (...args) =>
  append(...args).catch((err: unknown) => {
    if (isConcurrencyError(err)) lost++
    throw err
  })
const tally = await new Tally(id, createContainer({ store })).Load()
console.log('ready')
while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 1))
const start = performance.now()
const waits: number[] = []
const losses: number[] = []
for (let n = 0; n < Number(countText); n++) {
  const fired = performance.now()
  lost = 0
  await tally.Fire('counted', { by: label, n })
  waits.push(performance.now() - fired)
  losses.push(lost)
}
console.log(`took ${performance.now() - start}`)
console.log(`waits ${JSON.stringify(waits)}`)
console.log(`losses ${JSON.stringify(losses)}`)
await tally.Stop()
await store.close()
