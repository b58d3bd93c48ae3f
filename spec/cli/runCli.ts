import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository's root: the CLI runs from there, so `--import tsx` resolves. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const main = fileURLToPath(new URL('../../cli/main.ts', import.meta.url))
// The package's own TypeScript sources, not a build in dist/ (the exports' source condition).
const node = ['--conditions=omniscient-source', '--import', 'tsx', main]

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `omniscient <args>` from the sources in its own process, as a person would. */
export function runCli(args: readonly string[], options: { input?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [...node, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  child.stdin.end(options.input ?? '')
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

/** Starts `omniscient <args>` and leaves it running (tail -f, inspect). */
export function startCli(args: readonly string[]): ReturnType<typeof spawn> & { output: () => string; errors: () => string } {
  const child = spawn(process.execPath, [...node, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
  return Object.assign(child, { output: () => stdout, errors: () => stderr })
}
