// The seed's scenario across devices:
//   npm run devices -- server                 the sync server on 127.0.0.1:8787
//   npm run devices -- device phone           a device of alice; type "buy 5", "lose", "quit"
//   npm run devices -- device laptop          another: what one buys shows on the other at once
//   npm run devices -- demo                   all of it, scripted, offline included
import { parseArgs } from 'node:util'
import { runDemo } from './demo.js'
import { runDevice } from './device.js'
import { startServer } from './server.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8787' },
    data: { type: 'string', default: './.data/devices' },
    user: { type: 'string', default: 'alice' },
  },
})
const [command, name = 'phone'] = positionals
if (command === 'server') {
  const server = await startServer(`${values.data}/server.db`, Number(values.port))
  console.log(`sync server on ${server.url} (Ctrl-C to stop)`)
  await new Promise<void>((resolve) => process.once('SIGINT', resolve))
  await server.close()
} else if (command === 'device') {
  await runDevice(name, `http://127.0.0.1:${values.port}/sync`, `${values.user}-${name}-demo-token`, values.user, `${values.data}/${name}.db`)
} else if (command === 'demo') {
  await runDemo(values.data, Number(values.port))
} else {
  console.log('usage: npm run devices -- server | device <phone|laptop> [--user alice] | demo')
}
