import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { createContainer, SqliteStore, type AnyEventCatalog, type Container, type StorageAdapter } from 'omniscient-actors'
import { serveSync, type SyncHandler, type SyncPermission, type SyncServerOptions } from 'omniscient-actors/sync-server'
import { tempDir } from '../support/tmp.js'

/** A sync server on a loopback port with a SQLite store behind it, for specs. */
export interface SyncServerHarness {
  readonly url: string
  readonly port: number
  readonly container: Container
  readonly handler: SyncHandler
  readonly file: string
  /** The folder holding `file`: when the harness made it, a spec's other files go there too. */
  readonly dir: string
  /** Stops the HTTP server (live feeds cut) but keeps the store's file. */
  stop(): Promise<void>
  /**
   * Closes this server (its store too) and starts another on the same file and port with the
   * same options, as a server that went down and came back; `dispose` of the new one cleans up.
   */
  restart(): Promise<SyncServerHarness>
  /** Closes everything and removes the file when the harness made its folder. */
  dispose(): Promise<void>
}

export const TOKENS = { 'token-alice': 'alice', 'token-bob': 'bob', 'token-admin': 'admin' } as const

// The specs' tokens are short, to read well; `bearerTokens` refuses tokens that short (its own
// specs, in security.spec.ts, use long ones), so the harness looks them up itself.
function specTokens(token: string | undefined): string | undefined {
  return token !== undefined && Object.hasOwn(TOKENS, token) ? TOKENS[token as keyof typeof TOKENS] : undefined
}

export interface HarnessOptions {
  readonly authorize?: (p: SyncPermission<string>) => boolean | Promise<boolean>
  readonly events?: readonly AnyEventCatalog[]
  readonly file?: string
  readonly port?: number
  readonly server?: Partial<SyncServerOptions<string>>
  /** The store behind the server instead of a SqliteStore on `file` (not for `restart`). */
  readonly store?: StorageAdapter
}

/**
 * A sync server for each test of the calling `describe`: started before it, disposed of after.
 * A test that replaces it (a restart, another store) puts the new one in `current`.
 *
 * @example
 * const server = syncServerEachTest()
 * it('...', async () => { const store = new RemoteStore({ url: server.current.url, token: 'token-alice' }) })
 */
export function syncServerEachTest(options: HarnessOptions = {}): { current: SyncServerHarness } {
  const holder = {} as { current: SyncServerHarness }
  beforeEach(async () => {
    holder.current = await startSyncServer(options)
  })
  afterEach(() => holder.current.dispose())
  return holder
}

export function startSyncServer(options: HarnessOptions = {}): Promise<SyncServerHarness> {
  return start(options, options.file ? undefined : tempDir('omniscient-sync-'))
}

async function start(options: HarnessOptions, tmp: ReturnType<typeof tempDir> | undefined): Promise<SyncServerHarness> {
  const file = options.file ?? join(tmp!.dir, 'server.db')
  const container = createContainer({ store: options.store ?? new SqliteStore({ file }) })
  const handler = serveSync(container, {
    authenticate: specTokens,
    authorize: options.authorize ?? (() => true),
    leaseClock: 'caller',
    ...(options.events ? { events: options.events } : {}),
    ...options.server,
  })
  const server = createServer(handler)
  await listen(server, options.port ?? 0)
  const port = (server.address() as AddressInfo).port
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await handler.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    container,
    handler,
    file,
    dir: dirname(file),
    stop,
    async restart() {
      await stop()
      await container.close()
      return start({ ...options, file, port }, tmp)
    },
    async dispose() {
      await stop()
      await container.close()
      tmp?.remove()
    },
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
}
