// A LiveActor across processes, the smallest example:
//   terminal 1: npm run counter -- watch          (prints the total whenever it changes)
//   terminal 2: npm run counter -- add 5          (adds 5 and exits; terminal 1 sees it)
import { parseArgs } from 'node:util'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Counter } from './Counter.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { db: { type: 'string', default: './.data/counter.db' }, id: { type: 'string', default: 'the-counter' } },
})
const container = createContainer({ store: new SqliteStore({ file: values.db }) })
const counter = await container.actors.get(Counter, values.id)

if (positionals[0] === 'add') {
  const envelope = await counter.Add(Number(positionals[1] ?? 1), `pid ${process.pid}`)
  console.log(`added: total ${counter._state.total} at version ${envelope.version}`)
} else if (positionals[0] === 'watch') {
  console.log(`total ${counter._state.total}; watching for additions (Ctrl-C to stop)`)
  let seen = counter.version
  const timer = setInterval(() => {
    if (counter.version === seen) return
    seen = counter.version
    console.log(`total ${counter._state.total} (version ${seen}, last added by ${counter._state.last ?? '?'})`)
  }, 50)
  await new Promise<void>((resolve) => process.once('SIGINT', resolve))
  clearInterval(timer)
} else {
  console.log('usage: npm run counter -- watch | add <n>')
}
await container.close()
