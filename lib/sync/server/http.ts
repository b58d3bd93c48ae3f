import type { IncomingMessage, ServerResponse } from 'node:http'
import { SyncRequestError } from '../errors.js'
import { errorToWire } from '../wireErrors.js'

// The small HTTP chores of the sync server: bounded bodies, JSON answers, streamed NDJSON.

/**
 * Reads a request body as JSON, refusing one larger than `maxBytes` (413) before reading it
 * all. The text is parsed with JSON.parse, which makes `__proto__` an own key, never a
 * prototype: the catalogs then refuse such keys by name (422), as a local Fire does.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) return void chunks.push(chunk)
      // Not a break out of the stream, which would destroy the socket before the 413 is read.
      stop()
      reject(tooLarge(maxBytes))
    }
    const onEnd = () => {
      stop()
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        reject(new SyncRequestError('BAD_REQUEST', 400, 'the request body is not valid JSON'))
      }
    }
    const onError = (err: unknown) => {
      stop()
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function tooLarge(maxBytes: number): SyncRequestError {
  return new SyncRequestError('BODY_TOO_LARGE', 413, `the request body is larger than ${maxBytes} bytes; nothing was stored`)
}

/** How much of a refused request's body is read and dropped before its connection is cut. */
const DISCARD_BYTES = 64 * 1024 * 1024

/**
 * Reads and drops what is left of a request's body after its answer. A socket closed while
 * the client is still sending is reset, and a reset can throw away the answer before the client
 * reads it (the 413 of an oversized body, above all): so the rest is read, up to a bound past
 * which the connection is cut.
 */
export function discardBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return
  let dropped = 0
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > DISCARD_BYTES) req.destroy()
  })
  req.on('error', () => undefined)
  req.resume()
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' })
  res.end(text)
}

/** Answers with the typed JSON error of `err`; an answer already under way is cut instead. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const { status, body } = errorToWire(err)
  sendJson(res, status, body)
}

/** Resolves when the response can take more, or when the client has gone. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

const CHUNK = 256 * 1024

/** The headers of an NDJSON answer. */
export const NDJSON_HEADERS = { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' } as const

/**
 * Streams items as newline-delimited JSON, a chunk at a time, waiting while the client reads
 * slower than the store: memory stays bounded by one chunk whatever the log's size.
 */
export async function sendNdjson<T>(res: ServerResponse, items: AsyncIterable<T>, keep: (item: T) => boolean | Promise<boolean>): Promise<void> {
  res.writeHead(200, NDJSON_HEADERS)
  let chunk = ''
  for await (const item of items) {
    if (res.destroyed) return
    const allowed = keep(item)
    if (allowed === true || (allowed !== false && (await allowed))) chunk += JSON.stringify(item) + '\n'
    if (chunk.length >= CHUNK) {
      const more = res.write(chunk)
      chunk = ''
      if (!more) await drained(res)
    }
  }
  res.end(chunk)
}
