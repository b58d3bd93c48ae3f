// Appends `count` single-event batches to one stream, competing with other processes:
// on ConcurrencyError it reads the stream's version and tries again.
import { isConcurrencyError, SqliteStore } from 'omniscient-actors'
import { awaitGo } from '../processes.js'

const [file, stream, label, countText, goFile] = process.argv.slice(2) as [string, string, string, string, string]
const store = new SqliteStore({ file })
await awaitGo(goFile)
let conflicts = 0
for (let i = 0; i < Number(countText); i++) {
  const event = { id: `${label}-${i}`, name: 'wrote', data: { label, i }, schemaVersion: 1, at: Date.now(), meta: {} }
  for (;;) {
    try {
      await store.append(stream, [event], { expectedVersion: await store.streamVersion(stream) })
      break
    } catch (err) {
      if (!isConcurrencyError(err)) throw err
      conflicts++
    }
  }
}
console.log(`done ${conflicts}`)
await store.close()
