import type { EventEnvelope } from 'omniscient-actors'

/** One Fire as a probe process saw it (spec/support/workers/leaderProbe.ts). */
export interface FireRecord {
  readonly process: string
  readonly id: string
  readonly start: number
  readonly end: number
  /** Whether the process believed it led when it called Fire. */
  readonly asLeader: boolean
  /** `ok`, or the error's code. */
  readonly outcome: string
  readonly version?: number
}

/** One store call as a probe process saw it. */
export interface CallRecord {
  readonly process: string
  readonly method: string
  readonly start: number
  readonly end: number
  readonly outcome: string
}

/** A stretch of time during which one process believed it led. */
export interface Leadership {
  readonly process: string
  readonly term: number
  readonly from: number
  /** When it stopped believing it (Infinity if it still does). */
  readonly to: number
}

/**
 * What the probe processes of a fault spec printed, read back: every Fire's outcome and every
 * change of believed leadership, with each process's clock (one machine here, so one clock).
 */
export class History {
  readonly fires: FireRecord[] = []
  readonly calls: CallRecord[] = []
  readonly leaderships: Leadership[] = []

  constructor(processes: Record<string, readonly string[]>) {
    for (const [name, lines] of Object.entries(processes)) {
      let open: { term: number; from: number } | undefined
      for (const line of lines) {
        const parts = line.split(' ')
        if (parts[0] === 'lead' || parts[0] === 'follow') {
          const at = Number(parts[0] === 'lead' ? parts[2] : parts[1])
          if (open) this.leaderships.push({ process: name, term: open.term, from: open.from, to: at })
          open = parts[0] === 'lead' ? { term: Number(parts[1]), from: at } : undefined
        } else if (parts[0] === 'call') {
          this.calls.push({ process: name, method: parts[1]!, start: Number(parts[2]), end: Number(parts[3]), outcome: parts[4]! })
        } else if (parts[0] === 'fire') {
          const [, id, start, end, leading, outcome, code] = parts as [string, string, string, string, string, string, string?]
          this.fires.push({ process: name, id, start: Number(start), end: Number(end), asLeader: leading === '1', outcome: outcome === 'ok' ? 'ok' : (code ?? outcome), ...(outcome === 'ok' ? { version: Number(code) } : {}) })
        }
      }
      if (open) this.leaderships.push({ process: name, term: open.term, from: open.from, to: Infinity })
    }
  }

  /** The acknowledged Fires: their events must be in the log, once. */
  get acknowledged(): FireRecord[] {
    return this.fires.filter((f) => f.outcome === 'ok')
  }

  /** The longest time two processes both believed they led, in ms (0 if never). */
  overlapMs(): number {
    let worst = 0
    for (const a of this.leaderships) {
      for (const b of this.leaderships) {
        if (a.process >= b.process) continue
        worst = Math.max(worst, Math.min(a.to, b.to) - Math.max(a.from, b.from))
      }
    }
    return worst
  }

  /** Processes that believe they lead at the end of the history. */
  leadersNow(): string[] {
    return this.leaderships.filter((l) => l.to === Infinity).map((l) => l.process)
  }

  /** The first instant after `t` from which exactly one process believed it led, for good. */
  oneLeaderFrom(t: number): number | undefined {
    const final = this.leaderships.filter((l) => l.to === Infinity)
    if (final.length !== 1) return undefined
    const others = this.leaderships.filter((l) => l !== final[0])
    return Math.max(t, final[0]!.from, ...others.map((l) => l.to))
  }
}

/** Problems with a log against a history: acknowledged events lost or doubled, terms going back. */
export function logProblems(history: History, log: readonly EventEnvelope[]): string[] {
  const problems: string[] = []
  const count = new Map<string, number>()
  for (const e of log) count.set(e.id, (count.get(e.id) ?? 0) + 1)
  for (const [id, n] of count) if (n > 1) problems.push(`event ${id} is stored ${n} times`)
  for (const f of history.acknowledged) if (!count.has(f.id)) problems.push(`acknowledged event ${f.id} (${f.process}) is not in the log`)
  let highest = 0
  for (const e of log) {
    const term = Number(e.meta['term'] ?? 0)
    if (term < highest) problems.push(`event ${e.id} at version ${e.version} has term ${term} after term ${highest}`)
    highest = Math.max(highest, term)
  }
  return problems
}
