import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A rethinkdb binary to start throwaway servers from (specs that restart one need it). */
export const RETHINKDB_BIN = process.env['RETHINKDB_BIN']

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Where a server listens and which cluster it is part of (a lone loopback server by default). */
export interface RethinkPlacement {
  /** The command it runs under, such as `ip netns exec <name>`. */
  readonly prefix?: readonly string[]
  /** Addresses to listen on (default 127.0.0.1 only). */
  readonly bind?: readonly string[]
  /** Addresses its peers reach it at. */
  readonly canonical?: readonly string[]
  /** host:port of cluster ports to join. */
  readonly join?: readonly string[]
  readonly serverName?: string
}

/** A RethinkDB server of our own in `dir`, on ports that survive a restart. */
export class ThrowawayRethink {
  private child: ChildProcess | undefined

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly clusterPort: number,
    private readonly placement: RethinkPlacement,
  ) {}

  static async start(dir: string, placement: RethinkPlacement = {}): Promise<ThrowawayRethink> {
    const server = new ThrowawayRethink(dir, await freePort(), await freePort(), placement)
    await server.launch()
    return server
  }

  get url(): string {
    return `rethinkdb://127.0.0.1:${this.port}/omniscient_test`
  }

  /**
   * Starts the server and resolves once it says it is ready. Right after a kill -9 the old
   * server's helper processes may still hold the directory for a moment: it tries again then.
   */
  async launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.launchOnce()
      } catch (err) {
        if (attempt >= 40 || !/already in use/.test(String(err))) throw err
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  }

  private async launchOnce(): Promise<void> {
    const { prefix = [], bind = ['127.0.0.1'], canonical = [], join = [], serverName } = this.placement
    const args = [
      ...['--directory', this.dir, '--driver-port', String(this.port), '--cluster-port', String(this.clusterPort), '--no-http-admin'],
      ...bind.flatMap((a) => ['--bind', a]),
      ...canonical.flatMap((a) => ['--canonical-address', a]),
      ...join.flatMap((a) => ['--join', a]),
      ...(serverName ? ['--server-name', serverName] : []),
    ]
    const [command, ...rest] = [...prefix, RETHINKDB_BIN!, ...args] as [string, ...string[]]
    const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`rethinkdb did not start within 30 s:\n${out}`)), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Server ready')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.on('exit', (code) => reject(new Error(`rethinkdb exited with ${code}:\n${out}`)))
    })
  }

  /** kill -9, as a crash or a pulled plug would. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }
}
