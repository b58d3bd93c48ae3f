// Runs the follow projection and the follow graph read model until killed.
import { createContainer } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { FaultFollowGraph, FaultFollowProjection } from '../ReadSide.js'

const [target] = process.argv.slice(2) as [string]
const container = createContainer({ store: openStore(target), report: () => {} })
await new FaultFollowProjection(container).start()
await new FaultFollowGraph(container).start()
console.log('ready')
