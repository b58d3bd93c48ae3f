import type { ServerResponse } from 'node:http'
import type { StorageAdapter, Subscription } from '../../node.js'

const KEEP_ALIVE_MS = 15_000

/**
 * Streams committed events to a browser as Server-Sent Events, from `fromPosition` on, each
 * with its position as the event id (a reconnecting EventSource resumes after it).
 */
export function streamEvents(
  store: StorageAdapter,
  res: ServerResponse,
  options: { readonly fromPosition: number; readonly streamId?: string; readonly names?: readonly string[] },
): Subscription {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' })
  res.write(': live\n\n')
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS)
  const subscription = store.subscribe(
    { fromPosition: options.fromPosition, ...(options.streamId !== undefined ? { streamId: options.streamId } : {}), ...(options.names ? { names: options.names } : {}) },
    async (event) => {
      const ok = res.write(`id: ${event.position}\nevent: envelope\ndata: ${JSON.stringify(event)}\n\n`)
      // A closed connection never drains: stop waiting then too, so close() does not hang.
      if (!ok && !res.destroyed) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve)
          res.once('close', resolve)
        })
      }
    },
  )
  const stop = () => {
    clearInterval(keepAlive)
    void subscription.close()
  }
  res.on('close', stop)
  void subscription.done.catch(() => res.end())
  return subscription
}
