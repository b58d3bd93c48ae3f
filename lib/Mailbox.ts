/**
 * Runs tasks one at a time, in the order they were posted, so an actor never interleaves two
 * commands or a command and an incoming event. A task that fails rejects its own promise
 * only; the next task still runs.
 *
 * @example
 * const box = new Mailbox()
 * await box.post(() => actor.apply(event))
 */
export class Mailbox {
  private tail: Promise<unknown> = Promise.resolve()
  private queued = 0

  post<T>(task: () => T | Promise<T>): Promise<T> {
    this.queued++
    const run = this.tail.then(task)
    this.tail = run.then(
      () => this.queued--,
      () => this.queued--,
    )
    return run
  }

  /** How many tasks are posted and not finished. */
  get size(): number {
    return this.queued
  }

  /** Resolves when every task posted so far has finished. */
  async idle(): Promise<void> {
    while (this.queued > 0) await this.tail
  }
}
