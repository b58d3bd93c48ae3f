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

/** A RethinkDB server of our own in `dir`, on loopback ports that survive a restart. */
export class ThrowawayRethink {
  private child: ChildProcess | undefined

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly clusterPort: number,
  ) {}

  static async start(dir: string): Promise<ThrowawayRethink> {
    const server = new ThrowawayRethink(dir, await freePort(), await freePort())
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
    const args = ['--directory', this.dir, '--bind', '127.0.0.1', '--driver-port', String(this.port), '--cluster-port', String(this.clusterPort), '--no-http-admin']
    const child = spawn(RETHINKDB_BIN!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
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
