import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh database path in a temp folder (on the same disk as the OS temp dir). */
export function tempDb(name: string): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'omniscient-bench-'))
  return { file: join(dir, `${name}.db`), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Runs `fn` and returns its operations per second. */
export async function rate(operations: number, fn: () => Promise<void> | void): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return operations / seconds
}

/** The median of a few runs, so one hiccup of the machine does not decide a figure. */
export async function medianRate(runs: number, measure: () => Promise<number>): Promise<number> {
  const rates: number[] = []
  for (let i = 0; i < runs; i++) rates.push(await measure())
  rates.sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)]!
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export interface Row {
  readonly what: string
  readonly value: string
  readonly baseline: string
  readonly ratio: string
  readonly goal: string
}

export function printTable(title: string, rows: readonly Row[]): void {
  const headers: Row = { what: 'measure', value: 'omniscient-actors', baseline: 'baseline', ratio: 'ratio', goal: 'goal' }
  const all = [headers, ...rows]
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length))
  const line = (r: Row) =>
    `| ${r.what.padEnd(width('what'))} | ${r.value.padStart(width('value'))} | ${r.baseline.padStart(width('baseline'))} | ${r.ratio.padStart(width('ratio'))} | ${r.goal.padEnd(width('goal'))} |`
  console.log(`\n${title}\n`)
  console.log(line(headers))
  console.log(`|${(['what', 'value', 'baseline', 'ratio', 'goal'] as const).map((k) => '-'.repeat(width(k) + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
}

export const perSecond = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`
