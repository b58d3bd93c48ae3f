import type { IncomingMessage } from 'node:http'
import { SyncRequestError } from '../errors.js'

// Reading the parts of a request the sync protocol uses (docs/sync.md), each refusal a 400
// naming the part.

/**
 * The request's URL. A path is joined to the base, not resolved against it: `//x/streams`
 * would otherwise be read as the host x and the path /streams. A target that is no URL at all
 * is undefined (a 400).
 */
export function requestUrl(target = '/'): URL | undefined {
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target)
  } catch {
    return undefined
  }
}

/**
 * The bearer token: `Authorization: Bearer t` (the scheme's name in any case, RFC 9110 section
 * 11.1), or on GET `?access_token=t`. An empty token is no token.
 */
export function bearerToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization
  if (auth !== undefined && /^bearer(?: |$)/i.test(auth)) return auth.slice(7).trim() || undefined
  return req.method === 'GET' ? url.searchParams.get('access_token') || undefined : undefined
}

/** A path segment, percent-decoded. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new SyncRequestError('BAD_REQUEST', 400, `the path segment "${segment.slice(0, 60)}" is not valid percent-encoded UTF-8`)
  }
}

/** A header given once, or null. */
export function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name]
  return typeof value === 'string' ? value : null
}

/** A whole number >= 0 from a query parameter or header; undefined when absent or empty. */
export function wholeNumber(text: string | null, what: string): number | undefined {
  if (text === null || text === '') return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new SyncRequestError('BAD_REQUEST', 400, `${what} must be a whole number >= 0, got "${text.slice(0, 40)}"`)
  return n
}

/**
 * The event names a read asks for: each `name=` parameter is one name taken whole (commas
 * included), and each `names=` a comma-separated list of names without commas. Undefined when
 * neither is given: every name.
 */
export function eventNames(query: URLSearchParams): string[] | undefined {
  const names = [...query.getAll('name'), ...query.getAll('names').flatMap((list) => list.split(','))].filter((n) => n !== '')
  return names.length > 0 ? names : undefined
}
