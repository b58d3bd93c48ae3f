import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Starts a TypeScript file from spec/support/workers in its own Node process (through tsx, on
 * the sources). `prefix` runs it through another command, such as `ip netns exec <name>`.
 */
export function startWorker(name: string, args: readonly string[], prefix: readonly string[] = []): ChildProcess & { lines: string[]; exited: Promise<number | null> } {
  const file = fileURLToPath(new URL(`./workers/${name}.ts`, import.meta.url))
  // On the sources, like the specs themselves (the package's `omniscient-source` condition).
  const node = [process.execPath, '--import', 'tsx', '--conditions=omniscient-source', file, ...args]
  const [command, ...rest] = [...prefix, ...node] as [string, ...string[]]
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let buffered = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) process.stderr.write(`worker ${name} exited ${code}: ${stderr}\n`)
      resolve(code)
    }),
  )
  return Object.assign(child, { lines, exited })
}

/** kill -9 to each worker, then waits until every one has exited. */
export async function killWorkers(workers: ReadonlyArray<{ kill(signal: NodeJS.Signals): boolean; exited: Promise<unknown> }>): Promise<void> {
  for (const w of workers) w.kill('SIGKILL')
  await Promise.all(workers.map((w) => w.exited))
}

/** Resolves once `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/**
 * A start line for workers: each prints `ready` and waits for the go file, so that processes
 * whose start-up took different times still begin their work together.
 */
export async function startTogether(workers: ReadonlyArray<{ lines: string[] }>, goFile: string): Promise<void> {
  await waitUntil(() => workers.every((w) => w.lines.includes('ready')), 30_000, 'every worker to be ready')
  writeFileSync(goFile, 'go')
}

/** The worker's side of `startTogether`. */
export async function awaitGo(goFile: string): Promise<void> {
  console.log('ready')
  while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 1))
}
