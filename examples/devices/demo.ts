// The scripted scenario: a server process and two device processes of one player.
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SqliteStore } from 'omniscient-actors'

interface Proc {
  readonly child: ChildProcess
  readonly lines: string[]
  /** The next line matching, after the last one waited for (or from line `since`). */
  waitFor(pattern: RegExp, timeoutMs?: number, since?: number): Promise<string>
  send(line: string): void
}

const main = fileURLToPath(new URL('./main.ts', import.meta.url))

function start(args: string[], label: string, quiet: boolean): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=omniscient-source', main, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  const waiters = new Set<() => void>()
  let rest = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      if (!quiet) console.log(label === 'server' ? `  (server) ${line}` : `  ${line}`)
    }
    for (const wake of waiters) wake()
  })
  let from = 0
  return {
    child,
    lines,
    send: (line) => child.stdin.write(`${line}\n`),
    waitFor(pattern, timeoutMs = 20_000, since) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = lines.findIndex((l, n) => n >= (since ?? from) && pattern.test(l))
          if (i === -1) return false
          if (since === undefined) from = i + 1
          waiters.delete(check)
          clearTimeout(timer)
          resolve(lines[i]!)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`${label}: no line matching ${String(pattern)} within ${timeoutMs} ms`))
        }, timeoutMs)
        if (!check()) waiters.add(check)
      })
    },
  }
}

/** What the demo saw, for its spec. */
export interface DemoResult {
  readonly deliveryMs: number
  readonly lives: number
  readonly storedIds: readonly string[]
}

export async function runDemo(data: string, port: number, quiet = false): Promise<DemoResult> {
  const log = (text: string) => quiet || console.log(text)
  rmSync(data, { recursive: true, force: true })
  const common = ['--data', data, '--port', String(port)]
  const started: Proc[] = []
  const launch = (args: string[], label: string) => {
    const proc = start(args, label, quiet)
    started.push(proc)
    return proc
  }
  try {
    return await scenario(data, common, launch, log)
  } finally {
    for (const proc of started) if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
  }
}

async function scenario(data: string, common: string[], start: (args: string[], label: string) => Proc, log: (text: string) => void): Promise<DemoResult> {
  log('1. a server and two devices of alice')
  let server = start(['server', ...common], 'server')
  await server.waitFor(/sync server on/)
  const phone = start(['device', 'phone', ...common], 'phone')
  let laptop = start(['device', 'laptop', ...common], 'laptop')
  await Promise.all([phone.waitFor(/\[phone\] lives 3/), laptop.waitFor(/\[laptop\] lives 3/)])

  log('2. payments on the laptop show on the phone')
  laptop.send('buy 5')
  await phone.waitFor(/\[phone\] lives 8 /)
  await laptop.waitFor(/stored at version 1/)
  const t0 = performance.now()
  laptop.send('buy 1')
  await phone.waitFor(/\[phone\] lives 9 /)
  const deliveryMs = performance.now() - t0
  log(`   the phone showed the second ${deliveryMs.toFixed(1)} ms after the laptop was told to buy (stdin, two processes and a server in between)`)
  await laptop.waitFor(/stored at version 2/)

  log('3. the server goes down; the laptop buys twice offline: both predictions show at once, queued')
  server.child.kill('SIGINT')
  await new Promise((r) => server.child.once('exit', r))
  let mark = laptop.lines.length
  laptop.send('buy 2')
  laptop.send('buy 1')
  await Promise.all([laptop.waitFor(/\[laptop\] lives 12 \(version 4/, 20_000, mark), laptop.waitFor(/offline, 2 queued/, 20_000, mark)])

  log('4. the laptop restarts, still offline: its queued payments show again on top of what it knew')
  laptop.send('quit')
  await new Promise((r) => (laptop.child.exitCode !== null ? r(null) : laptop.child.once('exit', r)))
  laptop = start(['device', 'laptop', ...common], 'laptop')
  await laptop.waitFor(/\[laptop\] lives 12 \(version 4\)/)

  log('5. the server comes back: the queued payments land once, in order, and the phone sees them')
  mark = laptop.lines.length
  server = start(['server', ...common], 'server')
  await laptop.waitFor(/online, 0 queued/, 20_000, mark)
  await phone.waitFor(/\[phone\] lives 12 /)

  phone.send('quit')
  laptop.send('quit')
  await Promise.all([phone, laptop].map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)))))
  server.child.kill('SIGINT')
  await new Promise((r) => server.child.once('exit', r))

  const store = new SqliteStore({ file: `${data}/server.db` })
  const storedIds: string[] = []
  let lives = 3
  for await (const e of store.readStream('player:alice')) {
    storedIds.push(e.id)
    lives += (e.data as { lives: number }).lives
  }
  await store.close()
  log(`6. the server holds ${storedIds.length} events, each once (${new Set(storedIds).size} distinct ids): alice has ${lives} lives`)
  return { deliveryMs, lives, storedIds }
}
