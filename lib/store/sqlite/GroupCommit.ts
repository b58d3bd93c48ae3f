/**
 * Collects the writes requested during one turn of the event loop and runs them together, so
 * that many appends share one transaction and one fsync (group commit). Each write succeeds or
 * fails on its own; `runBatch` decides how (SQLite uses a savepoint per write).
 */
export class GroupCommit<TWork, TResult> {
  private pending: Array<{ work: TWork; resolve: (r: TResult) => void; reject: (e: unknown) => void }> = []
  private scheduled = false
  private idle: Promise<void> = Promise.resolve()
  private markIdle: () => void = () => {}

  constructor(
    private readonly runBatch: (works: readonly TWork[]) => Array<{ ok: true; value: TResult } | { ok: false; error: unknown }>,
  ) {}

  submit(work: TWork): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      this.pending.push({ work, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        this.idle = new Promise((done) => (this.markIdle = done))
        // setImmediate, not a microtask: appends started by other actors in the same tick
        // (each after its own awaits) have had time to join the batch.
        setImmediate(() => this.flush())
      }
    })
  }

  /** Resolves once nothing is queued. */
  drained(): Promise<void> {
    return this.idle
  }

  private flush(): void {
    const batch = this.pending
    this.pending = []
    this.scheduled = false
    try {
      const outcomes = this.runBatch(batch.map((p) => p.work))
      batch.forEach((p, i) => {
        const outcome = outcomes[i]!
        if (outcome.ok) p.resolve(outcome.value)
        else p.reject(outcome.error)
      })
    } catch (err) {
      for (const p of batch) p.reject(err)
    } finally {
      if (!this.scheduled) this.markIdle()
    }
  }
}
