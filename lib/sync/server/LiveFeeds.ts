import type { ServerResponse } from 'node:http'
import { SyncRequestError } from '../errors.js'

/**
 * The live feeds a sync server holds open: at most `maxPerUser` for each user (429 past it),
 * so one user cannot take every connection; each feed's `recheck` run every `recheckMs` (one
 * timer for all of them, not one per feed); all of them ended at once by `closeAll`.
 */
export class LiveFeeds {
  private readonly open = new Map<ServerResponse, () => void>()
  private readonly byUser = new Map<string, number>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly maxPerUser: number,
    private readonly recheckMs: number,
  ) {}

  /** Live feeds open now. */
  get size(): number {
    return this.open.size
  }

  /**
   * Counts `res` as one of `userKey`'s feeds, TOO_MANY_CONNECTIONS when the user holds the most
   * already; the function returned gives its place back. (Not a wrapper around the feed: each
   * async frame a feed waits in is memory held for as long as it is open, times every feed.)
   */
  add(userKey: string, res: ServerResponse, recheck: () => void): () => void {
    const count = this.byUser.get(userKey) ?? 0
    if (count >= this.maxPerUser) throw new SyncRequestError('TOO_MANY_CONNECTIONS', 429, `at most ${this.maxPerUser} live feeds per user; close one first`)
    this.byUser.set(userKey, count + 1)
    this.open.set(res, recheck)
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        for (const again of this.open.values()) again()
      }, this.recheckMs)
      // The feeds keep the process alive, not their timer.
      this.timer.unref()
    }
    return () => {
      this.open.delete(res)
      const left = (this.byUser.get(userKey) ?? 1) - 1
      if (left > 0) this.byUser.set(userKey, left)
      else this.byUser.delete(userKey)
      if (this.open.size === 0) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }
  }

  /** Cuts every feed (clients reconnect elsewhere or later). */
  closeAll(): void {
    for (const res of this.open.keys()) res.destroy()
  }
}
