import type { IncomingMessage, ServerResponse } from 'node:http'
import { SyncRequestError } from '../errors.js'
import { parseWireJson } from '../protocol.js'
import { errorToWire } from '../wireErrors.js'

// The small HTTP chores of the sync server: bounded bodies, JSON answers, streamed NDJSON.

/** Reads a request body as JSON, refusing one larger than `maxBytes` before reading it all. */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) throw tooLarge(res, maxBytes)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw tooLarge(res, maxBytes)
    chunks.push(chunk)
  }
  try {
    return parseWireJson(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new SyncRequestError('BAD_REQUEST', 400, 'the request body is not valid JSON')
  }
}

function tooLarge(res: ServerResponse, maxBytes: number): SyncRequestError {
  // The rest of the body is not read: the connection closes after the answer.
  res.setHeader('Connection', 'close')
  return new SyncRequestError('BODY_TOO_LARGE', 413, `the request body is larger than ${maxBytes} bytes; nothing was stored`)
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
