// Loads the Tally "tally" through a RemoteStore with a SQLite copy (server up), waits for the go
// file (the spec stops the server meanwhile), fires once per number in `ns` offline with ids
// `pending-<n>`, prints `queued N` and what it shows, then waits to be killed.
import { createContainer } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { awaitGo } from '../processes.js'
import { Tally } from '../Tally.js'

const [url, copyFile, nsText, goFile] = process.argv.slice(2) as [string, string, string, string]
const store = new RemoteStore({ url, token: 'token-alice', local: new SqliteCopy({ file: copyFile }), backoff: { initialMs: 50, maxMs: 200 } })
const tally = await new Tally('tally', createContainer({ store, report: () => {} })).Load()
await awaitGo(goFile)
const ns = nsText.split(',').map(Number)
for (const n of ns) void tally.Fire('counted', { by: 'me', n }, { id: `pending-${n}` }).catch(() => undefined)
while (store.status.queued < ns.length) await new Promise((r) => setTimeout(r, 5))
console.log(`queued ${store.status.queued}`)
console.log(`shown ${tally._state.order.join(' ')}`)
await new Promise(() => {}) // until killed
