/** The outcome of one write of a group. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/**
 * Collects the writes requested during one turn of the event loop and runs them together, so
 * that many appends share one transaction and one fsync (group commit). Each write succeeds or
 * fails on its own; `runBatch` decides how (SQLite: a savepoint each; PostgreSQL: a
 * subtransaction each). One batch runs at a time; writes that arrive meanwhile form the next.
 */
export class GroupCommit<TWork, TResult> {
  private pending: Array<{ work: TWork; resolve: (r: TResult) => void; reject: (e: unknown) => void }> = []
  private scheduled = false
  private running = false
  private idle: Promise<void> = Promise.resolve()
  private markIdle: () => void = () => {}

  constructor(private readonly runBatch: (works: readonly TWork[]) => Array<Outcome<TResult>> | Promise<Array<Outcome<TResult>>>) {}

  submit(work: TWork): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.pending.push({ work, resolve, reject })
      if (!this.running && !this.scheduled) {
        this.scheduled = true
        this.idle = new Promise((done) => (this.markIdle = done))
        // setImmediate, not a microtask: appends started by other actors in the same tick
        // (each after its own awaits), or by other I/O callbacks of this poll phase, join in.
        setImmediate(() => void this.flush())
      }
    })
  }

  /** Resolves once nothing is queued or running. */
  drained(): Promise<void> {
    return this.idle
  }

  private async flush(): Promise<void> {
    this.scheduled = false
    this.running = true
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      try {
        const ran = this.runBatch(batch.map((p) => p.work))
        // A synchronous store (SQLite) answers at once: no extra turn before the writers hear.
        const outcomes = ran instanceof Promise ? await ran : ran
        for (let i = 0; i < batch.length; i++) {
          const outcome = outcomes[i]!
          if (outcome.ok) batch[i]!.resolve(outcome.value)
          else batch[i]!.reject(outcome.error)
        }
      } catch (err) {
        for (const p of batch) p.reject(err)
      }
    }
    this.running = false
    this.markIdle()
  }
}
