import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Container } from '../../Container.js'
import type { EventEnvelope } from '../../envelope.js'
import type { AnyEventCatalog } from '../../events.js'
import { SyncAccessError, SyncRequestError, type SyncAction } from '../errors.js'
import type { HeadResponse, LeaseRequest } from '../protocol.js'
import { checkAppend, checkIdentifier, checkReadStream } from '../../store/kit/arguments.js'
import { parseAppendRequest, validateAgainstCatalogs } from './appendRequest.js'
import { readJsonBody, sendError, sendJson, sendNdjson } from './http.js'
import { serveLiveFeed } from './liveFeed.js'
import { sendStoredNdjson } from './storedLines.js'
import { appendOnce } from './appendOnce.js'
import { firstVersionFrom } from './streamFromPosition.js'
import { readsStoredText } from '../../store/kit/storedText.js'

/** One question to the `authorize` hook: may `user` do `action` (on this stream, event, lease)? */
export interface SyncPermission<U> {
  readonly user: U
  readonly action: SyncAction
  /** The stream read or appended to; absent when reading the whole log asks about one event's stream. */
  readonly streamId?: string
  /** The event read or appended; absent when a whole stream is asked for before its events are read. */
  readonly eventName?: string
  /** The lease asked for (action `lease`, or an append fenced by it). */
  readonly lease?: string
}

/** What `authenticate` answers for a token that names no user. */
export type Nobody = undefined | null | false | '' | 0

/** Options of `serveSync`. */
export interface SyncServerOptions<U> {
  /**
   * Who is asking, from the request's bearer token (`Authorization: Bearer t`, or on GET
   * requests `?access_token=t` for clients such as a browser's EventSource that cannot set
   * headers); an empty token is given as undefined. Any falsy answer (undefined, null, false,
   * '', 0) is nobody: the request is refused with 401. `bearerTokens({...})` compares in
   * constant time.
   */
  readonly authenticate: (token: string | undefined, req: IncomingMessage) => U | Nobody | Promise<U | Nobody>
  /** Decides each read, append and lease request; false refuses it (403), and nothing is read or stored. */
  readonly authorize: (permission: SyncPermission<U>) => boolean | Promise<boolean>
  /**
   * The event catalogs appended events are validated against (name, schema version, data).
   * Without any, the server stores whatever names and data clients send.
   */
  readonly events?: readonly AnyEventCatalog[]
  /** The mount path when the handler serves a plain server's every request (e.g. '/sync'). Default ''. */
  readonly prefix?: string
  /** Largest request body, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** Most events in one append. Default 1,000. */
  readonly maxBatch?: number
  /** Most live feeds one user holds open at once. Default 16. */
  readonly maxLiveFeedsPerUser?: number
  /** How a user is told apart for `maxLiveFeedsPerUser`. Default: the user itself if a string, else its JSON. */
  readonly userKey?: (user: U) => string
  /** A comment line on idle live feeds, so proxies keep them open. Default 15 s. */
  readonly heartbeatMs?: number
  /** `'server'` (default): lease times come from the container's clock; `'caller'`: from the request (tests). */
  readonly leaseClock?: 'server' | 'caller'
  /** Adds CORS headers for this origin (e.g. 'https://app.example'), for pages served elsewhere. */
  readonly allowOrigin?: string
}

/** A `node:http` request handler that serves the sync protocol; `close()` ends every live feed. */
export interface SyncHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void
  /** Ends the live feeds (clients reconnect elsewhere or later) so the HTTP server can close. */
  close(): Promise<void>
  /** Live feeds open now. */
  readonly liveFeeds: number
}

/**
 * Exposes a container's store over HTTP on the sync protocol (docs/sync.md): catch-up as
 * NDJSON, live as Server-Sent Events, appends with client ids, stream versions, the head and
 * leases. Mounts in a plain `node:http` server, Express or Fastify.
 *
 * @example
 * const handler = serveSync(container, {
 *   authenticate: bearerTokens({ [aliceToken]: 'alice' }),
 *   authorize: ({ user, streamId }) => streamId === undefined || streamId.startsWith(`${user}:`),
 *   events: [PlayerEvents],
 * })
 * http.createServer(handler).listen(8080)
 */
export function serveSync<U>(container: Container, options: SyncServerOptions<U>): SyncHandler {
  const store = container.store
  const prefix = options.prefix ?? ''
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const maxBatch = options.maxBatch ?? 1_000
  const maxFeeds = options.maxLiveFeedsPerUser ?? 16
  const heartbeatMs = options.heartbeatMs ?? 15_000
  const userKey = options.userKey ?? ((u: U) => (typeof u === 'string' ? u : JSON.stringify(u)))
  const feedsByUser = new Map<string, number>()
  const openFeeds = new Set<ServerResponse>()

  async function allowed(permission: SyncPermission<U>): Promise<boolean> {
    return (await options.authorize(permission)) === true
  }

  async function demand(permission: SyncPermission<U>): Promise<void> {
    if (!(await allowed(permission))) throw new SyncAccessError('FORBIDDEN', permission.action, permission.streamId, permission.eventName)
  }

  /**
   * A read of one stream: the id is checked first, as the store would check it, so that a bad
   * one is a 400 before an answer has begun (a streamed answer can only be cut off).
   */
  async function demandRead(user: U, streamId: string): Promise<void> {
    checkIdentifier(streamId, 'streamId')
    await demand({ user, action: 'read', streamId })
  }

  /** Per-request read filter: asks once per stream and event name, then answers from memory. */
  function readFilter(user: U): (event: Pick<EventEnvelope, 'streamId' | 'name'>) => boolean | Promise<boolean> {
    const known = new Map<string, boolean>()
    return (event) => {
      const key = `${event.streamId}\u0000${event.name}`
      const cached = known.get(key)
      if (cached !== undefined) return cached
      return allowed({ user, action: 'read', streamId: event.streamId, eventName: event.name }).then((ok) => {
        // Bounded: a feed over millions of streams must not grow without end.
        if (known.size > 10_000) known.clear()
        known.set(key, ok)
        return ok
      })
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, user: U): Promise<void> {
    const path = url.pathname.slice(prefix.length)
    const method = req.method ?? 'GET'
    const q = url.searchParams
    const segments = path.split('/').slice(1).map(decodeSegment)

    if (path === '/head' && method === 'GET') {
      // The store's id limit, when it has one, so that clients derive names that fit it.
      const head: HeadResponse = { position: await store.headPosition(), ...(store.maxIdBytes !== undefined ? { maxIdBytes: store.maxIdBytes } : {}) }
      return sendJson(res, 200, head)
    }

    if (path === '/events' && method === 'GET') {
      const streamId = q.get('streamId') ?? undefined
      const names = listParam(q.get('names'))
      if (streamId !== undefined) await demandRead(user, streamId)
      const fromPosition = wholeNumber(q.get('fromPosition'), 'fromPosition') ?? 1
      const filter = readFilter(user)
      const wanted = (e: Pick<EventEnvelope, 'streamId' | 'name'>) => (!names || names.includes(e.name)) && filter(e)
      // One stream: its own rows, from the first version at that position, not the whole log.
      if (streamId !== undefined) return sendNdjson(res, store.readStream(streamId, { fromVersion: await firstVersionFrom(store, streamId, fromPosition) }), wanted)
      // The stored text passes through when the store offers it: no decoding and encoding again.
      if (readsStoredText(store)) return sendStoredNdjson(res, store, fromPosition, wanted)
      return sendNdjson(res, store.readAll({ fromPosition }), wanted)
    }

    if (path === '/live' && method === 'GET') {
      const streamId = q.get('streamId') ?? undefined
      if (streamId !== undefined) await demandRead(user, streamId)
      const lastEventId = wholeNumber(header(req, 'last-event-id'), 'Last-Event-ID')
      const fromPosition = lastEventId !== undefined ? lastEventId + 1 : (wholeNumber(q.get('fromPosition'), 'fromPosition') ?? 1)
      const key = userKey(user)
      const open = feedsByUser.get(key) ?? 0
      if (open >= maxFeeds) throw new SyncRequestError('TOO_MANY_CONNECTIONS', 429, `at most ${maxFeeds} live feeds per user; close one first`)
      feedsByUser.set(key, open + 1)
      openFeeds.add(res)
      try {
        const names = listParam(q.get('names'))
        await serveLiveFeed(store, res, { fromPosition, heartbeatMs, canRead: readFilter(user), ...(streamId !== undefined ? { streamId } : {}), ...(names ? { names } : {}) })
      } finally {
        openFeeds.delete(res)
        const left = (feedsByUser.get(key) ?? 1) - 1
        if (left > 0) feedsByUser.set(key, left)
        else feedsByUser.delete(key)
      }
      return
    }

    if (segments[0] === 'streams' && segments.length === 2 && method === 'GET') {
      const streamId = segments[1]!
      await demandRead(user, streamId)
      return sendJson(res, 200, { streamId, version: await store.streamVersion(streamId) })
    }

    if (segments[0] === 'streams' && segments.length === 3 && segments[2] === 'events') {
      const streamId = segments[1]!
      if (method === 'GET') {
        await demandRead(user, streamId)
        const fromVersion = wholeNumber(q.get('fromVersion'), 'fromVersion')
        const toVersion = wholeNumber(q.get('toVersion'), 'toVersion')
        const range = { ...(fromVersion !== undefined ? { fromVersion } : {}), ...(toVersion !== undefined ? { toVersion } : {}) }
        checkReadStream(streamId, range)
        return sendNdjson(res, store.readStream(streamId, range), readFilter(user))
      }
      if (method === 'POST') {
        const request = parseAppendRequest(await readJsonBody(req, res, maxBodyBytes), maxBatch)
        for (const event of request.events) await demand({ user, action: 'append', streamId, eventName: event.name })
        if (request.lease) await demand({ user, action: 'lease', lease: request.lease.name })
        // The store's own argument rules (identifiers, sizes, well-formed Unicode), as a 400.
        checkAppend(streamId, request.events, request)
        const events = options.events ? validateAgainstCatalogs(request.events, options.events) : request.events
        return sendJson(res, 200, await appendOnce(store, streamId, events, { expectedVersion: request.expectedVersion, ...(request.lease ? { lease: request.lease } : {}) }))
      }
    }

    if (segments[0] === 'leases' && segments.length === 2) {
      const name = segments[1]!
      await demand({ user, action: 'lease', lease: name })
      if (method === 'GET') return sendJson(res, 200, { lease: (await store.readLease(name)) ?? null })
      if (method === 'POST') return sendJson(res, 200, { lease: await lease(name, await readJsonBody(req, res, maxBodyBytes)) })
    }

    throw new SyncRequestError('NOT_FOUND', 404, `no ${method} ${path} in the sync protocol (docs/sync.md)`)
  }

  async function lease(name: string, body: unknown) {
    const r = body as LeaseRequest
    if (typeof r !== 'object' || r === null || typeof r.owner !== 'string') throw new SyncRequestError('BAD_REQUEST', 400, 'a lease request is { op, owner, ttlMs?, term?, now? }')
    const now = options.leaseClock === 'caller' && typeof r.now === 'number' ? r.now : container.clock.now()
    if (r.op === 'acquire') return store.acquireLease(name, r.owner, positive(r.ttlMs, 'ttlMs'), now)
    if (r.op === 'renew') return store.renewLease(name, r.owner, positive(r.term, 'term'), positive(r.ttlMs, 'ttlMs'), now)
    if (r.op === 'release') {
      await store.releaseLease(name, r.owner, positive(r.term, 'term'), now)
      return (await store.readLease(name)) ?? null
    }
    throw new SyncRequestError('BAD_REQUEST', 400, 'op must be acquire, renew or release')
  }

  const handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const url = requestUrl(req.url)
    if (!url) return sendError(res, new SyncRequestError('BAD_REQUEST', 400, 'the request target is not a URL path'))
    if (!url.pathname.startsWith(prefix)) {
      if (next) return next()
      return sendError(res, new SyncRequestError('NOT_FOUND', 404, `not under ${prefix}`))
    }
    if (options.allowOrigin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', options.allowOrigin)
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID')
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
    }
    void (async (): Promise<void> => {
      if (req.method === 'OPTIONS') {
        res.writeHead(204)
        res.end()
        return
      }
      const user = await options.authenticate(bearer(req, url), req)
      // Every falsy answer is nobody: `map.get(t) ?? null` must not let a request in.
      if (!user) throw new SyncAccessError('UNAUTHENTICATED', undefined, undefined, undefined)
      await route(req, res, url, user)
    })().catch((err: unknown) => {
      sendError(res, err)
      // A body left unread would hold the connection: an oversized one is cut after the answer.
      if (!req.complete) res.once('finish', () => req.destroy())
    })
  }

  // defineProperty, not Object.assign: assign would copy the getter's value once.
  const served = Object.defineProperties(handler, {
    close: {
      value: async () => {
        for (const res of openFeeds) res.destroy()
      },
    },
    liveFeeds: { get: () => openFeeds.size },
  }) as SyncHandler
  return served
}

// A path is joined to the base, not resolved against it: `//x/streams` would otherwise be read
// as the host x and the path /streams. A target that is no URL at all is undefined (a 400).
function requestUrl(target = '/'): URL | undefined {
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target)
  } catch {
    return undefined
  }
}

function bearer(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization
  // The scheme's name is case-insensitive (RFC 9110 section 11.1).
  // An empty token is no token: the hook never sees one.
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim() || undefined
  return req.method === 'GET' ? url.searchParams.get('access_token') || undefined : undefined
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new SyncRequestError('BAD_REQUEST', 400, `the path segment "${segment.slice(0, 60)}" is not valid percent-encoded UTF-8`)
  }
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name]
  return typeof value === 'string' ? value : null
}

function wholeNumber(text: string | null, what: string): number | undefined {
  if (text === null || text === '') return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 0) throw new SyncRequestError('BAD_REQUEST', 400, `${what} must be a whole number >= 0, got "${text.slice(0, 40)}"`)
  return n
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new SyncRequestError('BAD_REQUEST', 400, `${what} must be a number >= 0`)
  return value
}

function listParam(text: string | null): string[] | undefined {
  return text === null || text === '' ? undefined : text.split(',')
}
