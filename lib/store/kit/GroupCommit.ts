import { groupMeasured } from '../../telemetry/metrics.js'
import { noteGroupSize } from '../../telemetry/spans.js'

/** The outcome of one write of a group. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** How many groups may run at once, and what must never run in two of them. */
export interface GroupCommitOptions<TWork> {
  /**
   * Groups running at once; default 1. With a server (PostgreSQL) more than one lets this
   * process prepare and answer one group while the server stores another. The pending writes
   * are then shared among the free slots, so that groups keep taking turns.
   */
  readonly inFlight?: number
  /** Writes with the same key (a stream) never run in two groups at once: they keep their order. */
  readonly keyOf?: (work: TWork) => string
  /**
   * At most one write per key in a group; a key's later writes wait for the next group, in
   * order. For an engine that writes a group as one document per stream (RethinkDB's log
   * entry). Needs `keyOf`.
   */
  readonly onePerKey?: boolean
  /** At most this many writes in a group (default: no limit). */
  readonly maxGroup?: number
  /** The store's `db.system.name` (sqlite, postgresql), for the group size metric. */
  readonly system?: string
}

interface Pending<TWork, TResult> {
  work: TWork
  resolve: (r: TResult) => void
  reject: (e: unknown) => void
}

/**
 * Collects the writes requested during one turn of the event loop and runs them together, so
 * that many appends share one transaction and one fsync (group commit). Each write succeeds or
 * fails on its own; `runBatch` decides how (SQLite: a savepoint each; PostgreSQL: judged one by
 * one in one statement; RethinkDB: one log entry). Writes that arrive while the groups run
 * form the next ones.
 */
export class GroupCommit<TWork, TResult> {
  private pending: Array<Pending<TWork, TResult>> = []
  private scheduled = false
  private running = 0
  private readonly inFlight: number
  private readonly maxGroup: number
  private readonly onePerKey: boolean
  // Only consulted with several groups in flight or one write per key in a group: one group at
  // a time keeps every order anyway.
  private readonly keyOf: ((work: TWork) => string) | undefined
  private readonly system: string
  private readonly keysRunning = new Map<string, number>()
  private idle: Promise<void> = Promise.resolve()
  private markIdle: () => void = () => {}

  constructor(
    private readonly runBatch: (works: readonly TWork[]) => Array<Outcome<TResult>> | Promise<Array<Outcome<TResult>>>,
    options: GroupCommitOptions<TWork> = {},
  ) {
    this.inFlight = Math.max(1, options.inFlight ?? 1)
    this.maxGroup = Math.max(1, options.maxGroup ?? Infinity)
    this.onePerKey = options.onePerKey === true
    if (this.onePerKey && !options.keyOf) throw new TypeError('GroupCommit: onePerKey needs keyOf')
    this.keyOf = this.inFlight > 1 || this.onePerKey ? options.keyOf : undefined
    this.system = options.system ?? 'other'
  }

  submit(work: TWork): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.pending.push({ work, resolve, reject })
      if (this.running === 0 && !this.scheduled) this.idle = new Promise((done) => (this.markIdle = done))
      this.schedule()
    })
  }

  /** Resolves once nothing is queued or running. */
  drained(): Promise<void> {
    return this.idle
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.inFlight) return
    this.scheduled = true
    // setImmediate, not a microtask: appends started by other actors in the same tick
    // (each after its own awaits), or by other I/O callbacks of this poll phase, join in.
    setImmediate(() => this.start())
  }

  private start(): void {
    this.scheduled = false
    while (this.running < this.inFlight && this.pending.length > 0) {
      const batch = this.take(Math.min(this.maxGroup, Math.ceil(this.pending.length / (this.inFlight - this.running))))
      if (batch.length === 0) break // every pending write waits for a group holding its key
      this.running++
      void this.run(batch)
    }
    if (this.running === 0 && this.pending.length === 0) this.markIdle()
  }

  /**
   * Takes up to `limit` pending writes, skipping those whose key a running group holds (with
   * `onePerKey`, also a key this group holds already), and those after them with the same key.
   */
  private take(limit: number): Array<Pending<TWork, TResult>> {
    const keyOf = this.keyOf
    if (!keyOf) return this.pending.splice(0, limit)
    const batch: Array<Pending<TWork, TResult>> = []
    const waiting: Array<Pending<TWork, TResult>> = []
    const blocked = new Set<string>()
    const taken = new Set<string>()
    for (const p of this.pending) {
      const key = keyOf(p.work)
      if (batch.length >= limit || blocked.has(key) || this.keysRunning.has(key) || (this.onePerKey && taken.has(key))) {
        blocked.add(key)
        waiting.push(p)
      } else {
        taken.add(key)
        batch.push(p)
      }
    }
    this.pending = waiting
    for (const p of batch) {
      const key = keyOf(p.work)
      this.keysRunning.set(key, (this.keysRunning.get(key) ?? 0) + 1)
    }
    return batch
  }

  private async run(batch: Array<Pending<TWork, TResult>>): Promise<void> {
    try {
      const ran = this.runBatch(batch.map((p) => p.work))
      // A synchronous store (SQLite) answers at once: no extra turn before the writers hear.
      const outcomes = ran instanceof Promise ? await ran : ran
      groupMeasured(this.system, batch.length)
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i]!
        if (outcome.ok) {
          if (typeof outcome.value === 'object' && outcome.value !== null) noteGroupSize(outcome.value, batch.length)
          batch[i]!.resolve(outcome.value)
        }
        else batch[i]!.reject(outcome.error)
      }
    } catch (err) {
      for (const p of batch) p.reject(err)
    }
    this.release(batch)
    this.running--
    if (this.pending.length > 0) this.schedule()
    else if (this.running === 0) this.markIdle()
  }

  private release(batch: Array<Pending<TWork, TResult>>): void {
    const keyOf = this.keyOf
    if (!keyOf) return
    for (const p of batch) {
      const key = keyOf(p.work)
      const left = this.keysRunning.get(key)! - 1
      if (left === 0) this.keysRunning.delete(key)
      else this.keysRunning.set(key, left)
    }
  }
}
