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
  return median(rates)
}

/**
 * Measures a figure and its baseline in alternation (baseline, figure, baseline, figure...), so
 * that a machine whose speed drifts during the run moves both alike. Returns the median of each
 * and the median of the per-pair ratios.
 */
export async function pairedRates(
  runs: number,
  baseline: () => Promise<number>,
  measured: () => Promise<number>,
): Promise<{ baseline: number; measured: number; ratio: number }> {
  const pairs: Array<{ baseline: number; measured: number }> = []
  for (let i = 0; i < runs; i++) pairs.push({ baseline: await baseline(), measured: await measured() })
  return {
    baseline: median(pairs.map((p) => p.baseline)),
    measured: median(pairs.map((p) => p.measured)),
    ratio: median(pairs.map((p) => p.measured / p.baseline)),
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
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
