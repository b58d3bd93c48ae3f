import type { EventEnvelope } from '../envelope.js'
import { sleep, type Wait } from '../store/Subscription.js'
import type { HttpClient } from './HttpClient.js'
import type { LocalCopy, ServerLimits } from './local/LocalCopy.js'
import { paths, type HeadResponse } from './protocol.js'
import { SyncStatusBoard } from './SyncStatus.js'

/**
 * A RemoteStore's link to its sync server, shared by its reads and its outbox: the HTTP client,
 * the status it shows, what the server said of its limits, the reconnection backoff, and the
 * one probe that waits for an unreachable server to answer again.
 */
export class SyncLink {
  readonly board = new SyncStatusBoard()
  private closed = false
  private reconnecting: Promise<void> | undefined
  // The backoff sleep of the reconnection probe: close() cuts it short.
  private probePause: Wait | undefined
  // What the server said of its store's limits (GET /head), or the copy's memory of it.
  private limits: ServerLimits | undefined
  readonly limitsLoaded: Promise<void>

  constructor(
    readonly http: HttpClient,
    private readonly local: LocalCopy,
    private readonly backoffMs: { readonly initialMs: number; readonly maxMs: number },
  ) {
    this.limitsLoaded = (local.loadLimits?.() ?? Promise.resolve(undefined)).then(
      (held) => void (this.limits ??= held),
      () => undefined,
    )
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** The longest id the server's store takes, once known (see RemoteStore.maxIdBytes). */
  get maxIdBytes(): number | undefined {
    return this.limits?.maxIdBytes
  }

  /** Stops the reconnection probe; whoever waits on it is let go. */
  close(): void {
    this.closed = true
    this.probePause?.cancel()
  }

  connected(up: boolean): void {
    this.board.update({ connected: up })
  }

  /** Counts an event in the status's `lastPosition`. */
  seen(event: EventEnvelope): void {
    if (event.position > this.board.current.lastPosition) this.board.update({ lastPosition: event.position })
  }

  /** `GET /head`; learns the server's limits from the answer and keeps them in the copy when they change. */
  async head(): Promise<HeadResponse> {
    const answer = await this.http.getJson<HeadResponse>(paths.head())
    await this.limitsLoaded
    const limits: ServerLimits = typeof answer.maxIdBytes === 'number' ? { maxIdBytes: answer.maxIdBytes } : {}
    if (this.limits?.maxIdBytes !== limits.maxIdBytes || this.limits === undefined) {
      this.limits = limits
      await this.local.saveLimits?.(limits).catch(() => undefined)
    }
    return answer
  }

  /** One probe for everyone waiting: resolves when the server answers again (or the link closes). */
  reconnected(failures: number): Promise<void> {
    this.reconnecting ??= (async () => {
      for (let n = failures; !this.closed; n++) {
        this.probePause = sleep(this.backoff(n))
        await this.probePause.promise
        this.probePause = undefined
        if (this.closed) return
        try {
          await this.head()
          this.connected(true)
          return
        } catch {
          // Still unreachable: wait longer.
        }
      }
    })().finally(() => (this.reconnecting = undefined))
    return this.reconnecting
  }

  /** The wait before trying again after `failures` failures in a row: doubling, capped, with jitter. */
  backoff(failures: number): number {
    const ms = Math.min(this.backoffMs.maxMs, this.backoffMs.initialMs * 2 ** Math.min(failures, 20))
    return ms / 2 + (Math.random() * ms) / 2
  }
}
