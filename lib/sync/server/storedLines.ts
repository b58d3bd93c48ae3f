import type { ServerResponse } from 'node:http'
import { decodeEventData, decodeEventMeta, encodeEventData } from '../../store/kit/eventJson.js'
import type { StoredEventText, StoredTextReader } from '../../store/kit/storedText.js'
import { catchUpMeasured } from '../../telemetry/metrics.js'
import { drained, NDJSON_HEADERS } from './http.js'

const PAGE = 4096
const CHUNK = 256 * 1024

// A key a decoded read drops (safeData.ts): such text is decoded, so the line leaves it out too.
const FORBIDDEN_KEY = /"(?:__proto__|constructor|prototype)"/

/**
 * One NDJSON line of an envelope from the stored text, without decoding data and meta: the
 * store wrote them with JSON.stringify, so they are one-line JSON already. Text with a raw
 * newline (a row edited by hand) would break the framing: it is decoded and encoded again,
 * and a row that is not JSON stops the read with the EventDecodeError a local read gives. Text
 * naming a prototype-polluting key is decoded and encoded again as well, dropping the key as
 * every read does.
 * Data and meta come first so that the envelope's own fields, last, are the ones a parser keeps.
 */
export function storedLine(e: StoredEventText): string {
  let data = e.data
  let meta = e.meta
  if (data.includes('\n') || FORBIDDEN_KEY.test(data)) data = encodeEventData(decodeEventData(data, e.streamId, e.version, e.position))
  if (meta.includes('\n') || FORBIDDEN_KEY.test(meta)) meta = JSON.stringify(decodeEventMeta(meta, e.streamId, e.version, e.position))
  return `{${data === '' ? '' : `"data":${data},`}"meta":${meta},"position":${e.position},"id":${JSON.stringify(e.id)},"streamId":${JSON.stringify(e.streamId)},"version":${e.version},"name":${JSON.stringify(e.name)},"schemaVersion":${e.schemaVersion},"at":${e.at}}\n`
}

/**
 * Streams the log from `fromPosition` as NDJSON straight from the stored text, a page of rows
 * per read and a large chunk per socket write, waiting while the client reads slower than the
 * store. Only the events `keep` allows are sent.
 */
export async function sendStoredNdjson(
  res: ServerResponse,
  store: StoredTextReader,
  fromPosition: number,
  keep: (event: StoredEventText) => boolean | Promise<boolean>,
): Promise<void> {
  res.writeHead(200, NDJSON_HEADERS)
  let from = Math.max(1, fromPosition)
  let chunk = ''
  for (;;) {
    // Checked per page, not only when a chunk is full: a read filter that keeps few events
    // would otherwise scan the rest of the log for a client that has left.
    if (res.destroyed) return
    const rows = await store.readStoredText(from, PAGE)
    catchUpMeasured('server', rows.length)
    for (const row of rows) {
      const allowed = keep(row)
      if (allowed === true || (allowed !== false && (await allowed))) chunk += storedLine(row)
      if (chunk.length >= CHUNK) {
        if (res.destroyed) return
        const more = res.write(chunk)
        chunk = ''
        if (!more) await drained(res)
      }
    }
    if (rows.length < PAGE) break
    from = rows[rows.length - 1]!.position + 1
  }
  if (!res.destroyed) res.end(chunk)
}
