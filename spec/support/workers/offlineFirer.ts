// Fires once on each of `count` Tally ids through a RemoteStore whose server is down, with a
// SQLite local copy, prints `queued N` once all are queued, then waits to be killed.
import { createContainer } from 'omniscient-actors'
import { RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { Tally } from '../Tally.js'

const [url, copyFile, countText] = process.argv.slice(2) as [string, string, string]
const store = new RemoteStore({ url, token: 'token-alice', local: new SqliteCopy({ file: copyFile }), backoff: { initialMs: 50, maxMs: 200 } })
const container = createContainer({ store, report: () => {} })
const count = Number(countText)
for (let i = 0; i < count; i++) {
  const tally = await new Tally(`offline-${i}`, container).Load()
  void tally.Fire('counted', { by: 'offline', n: i }, { id: `offline-event-${i}` }).catch(() => undefined)
}
while (store.status.queued < count) await new Promise((r) => setTimeout(r, 5))
console.log(`queued ${store.status.queued}`)
await new Promise(() => {}) // until killed
