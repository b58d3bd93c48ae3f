// Appends one-event batches to several streams at once through a RethinkStore (so that they
// share group writes), printing each batch before it is sent and once it is acknowledged,
// until the parent kills it (kill -9 in the crash spec).
import { RethinkStore } from 'omniscient-actors/rethinkdb'

const [url, tablePrefix, tag, streamsText] = process.argv.slice(2) as [string, string, string, string]
const store = new RethinkStore({ url, tablePrefix })
await store.streamVersion('s0')
console.log('ready')
await Promise.all(
  Array.from({ length: Number(streamsText) }, async (_, s) => {
    for (let n = 0; ; n++) {
      const id = `${tag}-${s}-${n}`
      console.log(`send s${s} ${id}`)
      const { events } = await store.append(`s${s}`, [{ id, name: 'n', data: { n }, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 'any' })
      console.log(`ack s${s} ${id} ${events[0]!.version} ${events[0]!.position}`)
    }
  }),
)
