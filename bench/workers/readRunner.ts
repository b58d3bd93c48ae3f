// Process B of the read-side lag bench: runs the Balances read model until killed.
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Balances } from '../Balances.js'

const [file] = process.argv.slice(2) as [string]
const container = createContainer({ store: new SqliteStore({ file }) })
const balances = await new Balances(container).start()
await balances.waitFor(await container.store.headPosition())
console.log('ready')
