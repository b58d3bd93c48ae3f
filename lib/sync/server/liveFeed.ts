import type { ServerResponse } from 'node:http'
import type { EventEnvelope } from '../../envelope.js'
import type { StorageAdapter } from '../../store/StorageAdapter.js'
import type { Subscription } from '../../store/Subscription.js'
import { drained } from './http.js'

/** What one live feed needs: where to start, what to send, and who may see each event. */
export interface LiveFeedOptions {
  readonly fromPosition: number
  readonly streamId?: string
  readonly names?: readonly string[]
  readonly heartbeatMs: number
  readonly canRead: (event: EventEnvelope) => boolean | Promise<boolean>
}

/**
 * Serves one Server-Sent Events feed: catch-up from `fromPosition`, then live, through the
 * store's own subscription (so no gap and no duplicate at the seam). Each event's `id:` is its
 * position, so a browser's EventSource that loses the connection asks again with
 * `Last-Event-ID` and resumes right after it. The subscription waits while the client reads
 * slowly: memory per follower stays one event. Resolves when the feed ends.
 */
export async function serveLiveFeed(store: StorageAdapter, res: ServerResponse, options: LiveFeedOptions): Promise<void> {
  // The client may have left while the request was authorized: its 'close' is then past.
  if (res.closed || res.destroyed) return
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // Proxies that buffer would hold events back.
    'X-Accel-Buffering': 'no',
  })
  // The first line tells the client the feed is open, before any event exists.
  res.write(`retry: 1000\n: open ${options.fromPosition}\n\n`)

  let subscription: Subscription | undefined
  const heartbeat = setInterval(() => res.write(': ping\n\n'), options.heartbeatMs)
  const ended = new Promise<void>((resolve) => res.once('close', resolve))
  try {
    subscription = store.subscribe(
      { fromPosition: options.fromPosition, ...(options.streamId !== undefined ? { streamId: options.streamId } : {}), ...(options.names ? { names: options.names } : {}) },
      async (event) => {
        if (res.destroyed) return
        const allowed = options.canRead(event)
        if (!(allowed === true || (allowed !== false && (await allowed)))) return
        if (!res.write(`id: ${event.position}\ndata: ${JSON.stringify(event)}\n\n`)) await drained(res)
      },
    )
    await Promise.race([ended, subscription.done.catch(() => undefined)])
  } finally {
    clearInterval(heartbeat)
    await subscription?.close()
    if (!res.destroyed) res.end()
  }
}
