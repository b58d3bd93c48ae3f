// The second process of the telemetry example: ships the orders the first one places.
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Shipper } from './Shop.js'
import { startTracing } from './tracing.js'

const [db, spans] = process.argv.slice(2) as [string, string]
const tracing = startTracing(spans, 'shipper')
const container = createContainer({ store: new SqliteStore({ file: db }) })
await new Shipper('shipper', container, (order) => console.log(`shipped ${order}`)).Load()
console.log('ready')

process.once('SIGTERM', () => {
  void (async () => {
    await container.close()
    await tracing.shutdown()
    process.exit(0)
  })()
})
