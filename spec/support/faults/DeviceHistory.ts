import type { EventEnvelope } from 'omniscient-actors'

/** One request a sync device sent (spec/support/workers/syncDevice.ts), begun and maybe ended. */
export interface RequestRecord {
  readonly process: string
  readonly n: number
  readonly method: string
  readonly path: string
  readonly start: number
  /** When its answer's headers came; undefined if they never did. */
  readonly headersAt: number | undefined
  /** When it ended (whole answer read, or failed); undefined while it had not. */
  readonly end: number | undefined
  /** The longest wait for the headers or for one chunk of the answer. */
  readonly longestWait: number
  readonly lastChunk: number | undefined
  /** The answer's status (`200`, `409`...), or the failure's code; undefined while open. */
  readonly outcome: string | undefined
}

/** A Fire or a batch as a device printed it. */
export interface WriteRecord {
  readonly process: string
  readonly id: string
  readonly start: number
  /** Undefined while unanswered. */
  readonly end: number | undefined
  /** `ok` or the error's code; undefined while unanswered. */
  readonly outcome: string | undefined
  /** The event ids it stores: the Fire's, or the batch's `<id>-<k>`. */
  readonly eventIds: readonly string[]
  readonly alreadyStored?: boolean
}

/** A change of something a device shows: its store's `connected`, or its LiveActor's `Following`. */
export interface Change {
  readonly process: string
  readonly up: boolean
  readonly at: number
}

/**
 * What sync devices printed (spec/support/workers/syncDevice.ts), read back: their requests to
 * the server, Fires and batches, status and following changes, all on one machine's clock.
 */
export class DeviceHistory {
  readonly requests: RequestRecord[] = []
  readonly writes: WriteRecord[] = []
  readonly connected: Change[] = []
  readonly following: Change[] = []
  readonly reports: Array<{ process: string; code: string; at: number }> = []

  constructor(processes: Record<string, readonly string[]>) {
    for (const [process, lines] of Object.entries(processes)) {
      const requests = new Map<number, RequestRecord>()
      const writes = new Map<string, WriteRecord>()
      for (const line of lines) {
        const p = line.split(' ')
        if (p[0] === 'req') {
          requests.set(Number(p[1]), { process, n: Number(p[1]), method: p[2]!, path: p[3]!, start: Number(p[4]), headersAt: undefined, end: undefined, longestWait: 0, lastChunk: undefined, outcome: undefined })
        } else if (p[0] === 'res') {
          const r = requests.get(Number(p[1]))!
          requests.set(r.n, { ...r, headersAt: Number(p[2]) })
        } else if (p[0] === 'http') {
          const [, n, method, path, start, headers, end, longest, lastChunk, outcome] = p as [string, ...string[]]
          requests.set(Number(n), { process, n: Number(n), method: method!, path: path!, start: Number(start), headersAt: headers === '-1' ? undefined : Number(headers), end: Number(end), longestWait: Number(longest), lastChunk: lastChunk === '-1' ? undefined : Number(lastChunk), outcome: outcome! })
        } else if (p[0] === 'begin') {
          writes.set(p[1]!, { process, id: p[1]!, start: Number(p[2]), end: undefined, outcome: undefined, eventIds: [p[1]!] })
        } else if (p[0] === 'fire') {
          const w = writes.get(p[1]!)!
          writes.set(w.id, { ...w, end: Number(p[3]), outcome: p[5] === 'ok' ? 'ok' : p[6]! })
        } else if (p[0] === 'batch') {
          const w = writes.get(p[1]!)!
          const eventIds = Array.from({ length: Number(p[2]) }, (_, k) => `${w.id}-${k}`)
          writes.set(w.id, { ...w, end: Number(p[4]), outcome: p[5] === 'ok' ? 'ok' : p[6]!, eventIds, ...(p[5] === 'ok' ? { alreadyStored: p[7] === '1' } : {}) })
        } else if (p[0] === 'status') {
          const up = p[1] === '1'
          const last = this.connected.filter((c) => c.process === process).at(-1)
          if (last?.up !== up) this.connected.push({ process, up, at: Number(p[3]) })
        } else if (p[0] === 'following') {
          this.following.push({ process, up: p[1] === '1', at: Number(p[2]) })
        } else if (p[0] === 'report') {
          this.reports.push({ process, code: p[1]!, at: Number(p[2]) })
        }
      }
      this.requests.push(...requests.values())
      this.writes.push(...writes.values())
    }
  }

  /** The first change of `process` to `up` at or after `t`. */
  firstAfter(changes: readonly Change[], process: string, up: boolean, t: number): number | undefined {
    return changes.find((c) => c.process === process && c.up === up && c.at >= t)?.at
  }
}

/**
 * Problems with a server's log against what devices were told was stored: an event stored twice,
 * an acknowledged one missing, a stream whose versions are not 1, 2, 3... without gaps.
 */
export function deviceLogProblems(history: DeviceHistory, log: readonly EventEnvelope[]): string[] {
  const problems: string[] = []
  const count = new Map<string, number>()
  for (const e of log) count.set(e.id, (count.get(e.id) ?? 0) + 1)
  for (const [id, n] of count) if (n > 1) problems.push(`event ${id} is stored ${n} times`)
  for (const w of history.writes.filter((w) => w.outcome === 'ok')) {
    const missing = w.eventIds.filter((id) => !count.has(id))
    if (missing.length > 0) problems.push(`acknowledged ${w.id} (${w.process}): ${missing.length} of its ${w.eventIds.length} events are not in the log (${missing[0]}...)`)
  }
  const versions = new Map<string, number>()
  for (const e of log) {
    const expected = (versions.get(e.streamId) ?? 0) + 1
    if (e.version !== expected) problems.push(`stream ${e.streamId}: version ${e.version} where ${expected} was due`)
    versions.set(e.streamId, e.version)
  }
  return problems
}
