import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Command } from 'commander'
import type { ActorClass } from '../../node.js'
import { MIN_TOKEN_LENGTH } from '../../lib/auth/bearerTokens.js'
import { CliError } from '../errors.js'
import { createInspector } from '../inspect/server.js'
import { wholeNumber } from '../options.js'
import { loadActorClasses } from '../replay/loadActors.js'
import { openStore, redactedStoreUrl } from '../storeUrl.js'

interface InspectFlags {
  actors: string[]
  host: string
  port: number
  token?: string
  traceUrl?: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('serve the inspector page: streams, events, actor state at any version with diffs, live events, leases, positions (read-only)')
    .argument('<store>', 'store URL')
    .option('-a, --actors <module>', 'a module whose actor classes the page may replay (module.ts or module.ts#Class); repeatable', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--host <host>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option('-p, --port <port>', 'port (0: any free one)', wholeNumber(0), 4321)
    .option('--token <token>', 'the access token (default: a random one when --host is not loopback)')
    .option('--trace-url <template>', 'link events to their trace: a URL with {traceId} (and {spanId}), e.g. http://localhost:16686/trace/{traceId}')
    .addHelpText('after', '\nThe page only reads. Ctrl-C stops the server.\nExample: omniscient inspect sqlite:./.data/app.db --actors ./src/actors.ts')
    .action(async (url: string, flags: InspectFlags) => {
      const actors = new Map<string, ActorClass>()
      for (const spec of flags.actors) for (const [name, Class] of await loadActorClasses(spec)) actors.set(name, Class)
      const loopback = LOOPBACK.has(flags.host)
      const token = flags.token ?? (loopback ? undefined : randomBytes(18).toString('base64url'))
      // The token table's own minimum, so that a token the flag takes is one the table takes.
      if (flags.token !== undefined && flags.token.length < MIN_TOKEN_LENGTH) throw new CliError('WEAK_TOKEN', `a token needs at least ${MIN_TOKEN_LENGTH} characters`)
      if (flags.traceUrl !== undefined && !flags.traceUrl.includes('{traceId}')) throw new CliError('BAD_TRACE_URL', 'the --trace-url template needs {traceId} where the trace id goes')
      const store = await openStore(url, { mustExist: true })
      const hostInUrl = flags.host.includes(':') ? `[${flags.host}]` : flags.host
      const server = createInspector({ store, storeName: redactedStoreUrl(url), actors, loopbackHostsOnly: loopback, ...(token !== undefined ? { token } : {}), ...(flags.traceUrl !== undefined ? { traceUrl: flags.traceUrl } : {}) })
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(flags.port, flags.host, resolve)
      })
      const port = (server.address() as AddressInfo).port
      process.stdout.write(`inspector on http://${hostInUrl}:${port}/${token !== undefined ? `?token=${token}` : ''}\n`)
      if (actors.size > 0) process.stdout.write(`actor classes: ${[...actors.keys()].join(', ')}\n`)
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve)
        process.once('SIGTERM', resolve)
      })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await store.close()
    })
}
