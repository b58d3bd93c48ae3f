// The seed's follow example, with a projection and a read model, across processes:
//   npm run follow -- alice bob         alice follows bob; prints both users' documents
//   npm run follow -- show alice        followers and following of alice
//   npm run follow -- top               the most followed users (an index, not a scan)
//   npm run follow -- serve             keeps the projection and the read model running (Ctrl-C)
// Every run takes part in running the projection and the read model; one process at a time
// applies the events (a lease), every process answers queries.
import { parseArgs } from 'node:util'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { FollowGraph } from './FollowGraph.js'
import { FollowProjection } from './FollowProjection.js'
import { showProgress } from './progressBar.js'
import { User } from './User.js'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { db: { type: 'string', default: './.data/follow.db' } } })
const container = createContainer({ store: new SqliteStore({ file: values.db }) })
const projection = await new FollowProjection(container).start()
const graph = await new FollowGraph(container).start()
const stopBar = showProgress(graph)

const [command, ...args] = positionals
const show = async (user: string) => console.log(user, JSON.stringify((await graph.get(user)) ?? { followers: [], following: [] }))
if (command === 'show' && args[0]) {
  await show(args[0])
} else if (command === 'top') {
  const top = await graph.find('followers', { gte: 1, order: 'desc', limit: 10 })
  for (const { key, doc } of top.docs) console.log(`${doc.followers.length}\t${key}`)
} else if (command === 'serve') {
  console.log('running the projection and the read model; Ctrl-C to stop')
  await new Promise<void>((resolve) => process.once('SIGINT', resolve))
} else if (command && args[0]) {
  const followed = await (await new User(command, container).Load()).Follow(args[0])
  // Read-your-writes: the derived WasFollowed is stored, then the read model has applied it.
  await projection.waitFor(followed)
  await graph.waitFor(await container.store.headPosition())
  await show(command)
  await show(args[0])
} else {
  console.log('usage: npm run follow -- <user> <user-to-follow> | show <user> | top | serve')
}
stopBar()
await projection.stop()
await graph.stop()
await container.close()
