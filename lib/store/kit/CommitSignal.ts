import type { CommitWaiter, Wait } from '../Subscription.js'

/**
 * Wakes a store's shared tail when this process commits (at once) and, given a `poll`, when
 * another process may have committed. The poll runs only while someone waits.
 */
export class CommitSignal implements CommitWaiter {
  private waiters = new Set<() => void>()
  private pollTimer: ReturnType<typeof setInterval> | undefined
  private generation = 0

  constructor(private readonly poll?: { everyMs: number; changed: () => boolean }) {}

  /** Something was committed: wake whoever waits. */
  notify(): void {
    this.generation++
    const waiters = this.waiters
    if (waiters.size > 0) {
      this.waiters = new Set()
      for (const wake of waiters) wake()
    }
    this.stopPollingIfIdle()
  }

  /** Taken before a read: `wait` returns at once if a commit was signalled after it. */
  mark(): number {
    return this.generation
  }

  wait(maxWaitMs: number, since: number): Wait {
    if (since !== this.generation) return { promise: Promise.resolve(), cancel: () => {} }
    let wake = () => {}
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake(), maxWaitMs)
      wake = () => {
        clearTimeout(timer)
        this.waiters.delete(wake)
        resolve()
        this.stopPollingIfIdle()
      }
    })
    this.waiters.add(wake)
    this.startPolling()
    return { promise, cancel: wake }
  }

  private startPolling(): void {
    const poll = this.poll
    if (!poll || this.pollTimer) return
    this.pollTimer = setInterval(() => {
      try {
        if (poll.changed()) this.notify()
      } catch {
        // A failed check is retried at the next tick; a subscription's own read reports errors.
      }
    }, poll.everyMs)
  }

  private stopPollingIfIdle(): void {
    if (this.waiters.size === 0 && this.pollTimer) {
      clearInterval(this.pollTimer)
      this.pollTimer = undefined
    }
  }
}
