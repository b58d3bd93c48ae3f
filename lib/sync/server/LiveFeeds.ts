import type { ServerResponse } from 'node:http'
import { SyncRequestError } from '../errors.js'

/**
 * The live feeds a sync server holds open: at most `maxPerUser` for each user (429 past it),
 * so one user cannot take every connection, and all of them ended at once by `closeAll`.
 */
export class LiveFeeds {
  private readonly open = new Set<ServerResponse>()
  private readonly byUser = new Map<string, number>()

  constructor(private readonly maxPerUser: number) {}

  /** Live feeds open now. */
  get size(): number {
    return this.open.size
  }

  /** Runs `serve` as one of `userKey`'s feeds; TOO_MANY_CONNECTIONS when the user holds the most already. */
  async hold(userKey: string, res: ServerResponse, serve: () => Promise<void>): Promise<void> {
    const count = this.byUser.get(userKey) ?? 0
    if (count >= this.maxPerUser) throw new SyncRequestError('TOO_MANY_CONNECTIONS', 429, `at most ${this.maxPerUser} live feeds per user; close one first`)
    this.byUser.set(userKey, count + 1)
    this.open.add(res)
    try {
      await serve()
    } finally {
      this.open.delete(res)
      const left = (this.byUser.get(userKey) ?? 1) - 1
      if (left > 0) this.byUser.set(userKey, left)
      else this.byUser.delete(userKey)
    }
  }

  /** Cuts every feed (clients reconnect elsewhere or later). */
  closeAll(): void {
    for (const res of this.open) res.destroy()
  }
}
