import { SyncTimeoutError } from './errors.js'

/**
 * The deadline of one request to the sync server: past it, the request is aborted (its
 * connection with it) and fails with `SyncTimeoutError`. For a streamed answer it is an idle
 * deadline, started again as each chunk arrives (`reset`), so a long catch-up is not cut but a
 * silent link is. The caller's own signal (a subscription's close) aborts it too.
 */
export class Deadline {
  private readonly controller = new AbortController()
  private timer: ReturnType<typeof setTimeout> | undefined
  private expiredError: SyncTimeoutError | undefined

  constructor(
    private readonly url: string,
    private readonly request: string,
    private ms: number,
    private readonly code: 'STORAGE_UNAVAILABLE' | 'STORAGE_INDETERMINATE',
    outer?: AbortSignal,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason)
    else outer?.addEventListener('abort', () => this.controller.abort(outer.reason), { once: true })
    this.reset()
  }

  /** Aborts the request when the deadline passes (and when the caller's signal does). */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** The error of a passed deadline, or undefined while it has not passed. */
  get expired(): SyncTimeoutError | undefined {
    return this.expiredError
  }

  /** Starts the wait again (optionally with another length and the option that sets it). */
  reset(ms = this.ms, option: 'callTimeoutMs' | 'liveSilenceMs' = 'callTimeoutMs'): void {
    this.ms = ms
    this.clear()
    this.timer = setTimeout(() => {
      this.expiredError = new SyncTimeoutError(this.url, this.request, ms, this.code, option)
      this.controller.abort(this.expiredError)
    }, ms)
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
