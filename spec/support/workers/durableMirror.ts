// Runs a durable Mirror of stream `source` until killed, printing its copies as it makes them.
import { createContainer } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { Mirror } from '../Mirror.js'

const [file] = process.argv.slice(2) as [string]
const store = openStore(file)
const container = createContainer({ store })
container.bus.subscribeAll(() => console.log('copied'))
await new Mirror('mirror', container, 'source').Load()
console.log('ready')
