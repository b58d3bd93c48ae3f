// Appends batches of `size` events to one stream forever, printing each acknowledged batch,
// until the parent kills it (kill -9 in the crash spec).
import { SqliteStore } from 'omniscient-actors'

const [file, stream, sizeText] = process.argv.slice(2) as [string, string, string]
const size = Number(sizeText)
const store = new SqliteStore({ file })
let version = await store.streamVersion(stream)
for (let batch = version / size; ; batch++) {
  const events = Array.from({ length: size }, (_, i) => ({
    id: `${stream}-${batch}-${i}`,
    name: 'bulk',
    data: { batch, i, padding: 'x'.repeat(200) },
    schemaVersion: 1,
    at: Date.now(),
    meta: {},
  }))
  await store.append(stream, events, { expectedVersion: version })
  version += size
  console.log(`acked ${version}`)
}
