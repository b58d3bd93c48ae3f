import type { EventEnvelope } from '../envelope.js'
import { sleep, type Wait } from '../store/Subscription.js'
import { SyncNeverReachedError, SyncUnavailableError } from './errors.js'
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
  // The server has answered in the protocol: in this run, or (its limits are in the copy) before.
  private answered = false
  private remembered: Promise<void> = Promise.resolve()

  constructor(
    readonly http: HttpClient,
    private readonly local: LocalCopy,
    private readonly backoffMs: { readonly initialMs: number; readonly maxMs: number },
    private readonly offline: boolean,
  ) {
    this.limitsLoaded = (local.loadLimits?.() ?? Promise.resolve(undefined)).then(
      (held) => void (this.limits ??= held),
      () => undefined,
    )
    http.onAnswer = () => {
      if (this.answered) return
      this.answered = true
      // Kept in the copy, so a later start offline knows this server has answered before: its
      // limits once it says them (GET /head), the default ones until then.
      this.remembered = this.limitsLoaded.then(() => (this.limits === undefined ? local.saveLimits?.({}) : undefined)).catch(() => undefined)
    }
  }

  /** Resolves once what the copy must remember of the server is written (before it closes). */
  settled(): Promise<void> {
    return this.remembered
  }

  /**
   * Whether a failure to reach the server means "offline" (reads serve the copy, appends wait).
   * It does with the `offline` option once the server has answered this device in the protocol,
   * in this run or an earlier one; before that a wrong URL would look exactly like being
   * offline, so the failure is thrown instead (SyncNeverReachedError, or the SyncProtocolError
   * of an answer that is not the protocol). Anything else is thrown as it is.
   */
  async offlineOr(err: unknown, waitsAnyway = false): Promise<void> {
    if (!(err instanceof SyncUnavailableError) || !(this.offline || waitsAnyway)) throw err
    await this.limitsLoaded
    if (this.answered || this.limits !== undefined) return
    if (err.code === 'NOT_SYNC_PROTOCOL') throw err
    throw new SyncNeverReachedError(err.url, err)
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
