import type { EventEnvelope, StorageAdapter } from '../node.js'
import { envelopeLine } from './ndjson.js'

/** What `exportLog` reads: the whole log, one stream, or from a position on. */
export interface ExportSelection {
  /** Only this stream (in version order); otherwise every stream in position order. */
  readonly streamId?: string
  /** With `streamId`: from this version on. */
  readonly fromVersion?: number
  /** Without `streamId`: events at or after this position. */
  readonly fromPosition?: number
}

/** Where lines go; resolves when the sink can take more (backpressure). */
export type LineSink = (chunk: string) => Promise<void> | void

const CHUNK_CHARS = 256 * 1024

/**
 * Writes the selected events as newline-delimited JSON, one envelope per line
 * (see `envelopeLine`), in chunks. Resolves with the number of events written.
 *
 * @example
 * await exportLog(store, { streamId: 'cart-42' }, (chunk) => void process.stdout.write(chunk))
 */
export async function exportLog(store: StorageAdapter, selection: ExportSelection, sink: LineSink, onProgress?: (done: number) => void): Promise<number> {
  const events: AsyncIterable<EventEnvelope> =
    selection.streamId !== undefined
      ? store.readStream(selection.streamId, { fromVersion: selection.fromVersion ?? 1 })
      : store.readAll({ fromPosition: selection.fromPosition ?? 1 })
  let chunk = ''
  let count = 0
  for await (const event of events) {
    chunk += envelopeLine(event) + '\n'
    count++
    if (chunk.length >= CHUNK_CHARS) {
      await sink(chunk)
      chunk = ''
      onProgress?.(count)
    }
  }
  if (chunk.length > 0) await sink(chunk)
  onProgress?.(count)
  return count
}

/** A sink writing to a Node stream that waits for 'drain' when the stream's buffer is full. */
export function streamSink(stream: NodeJS.WritableStream): LineSink {
  return (chunk) => {
    if (stream.write(chunk)) return
    return new Promise<void>((resolve) => stream.once('drain', resolve))
  }
}
