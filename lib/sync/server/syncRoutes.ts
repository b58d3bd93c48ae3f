import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Container } from '../../Container.js'
import type { EventEnvelope } from '../../envelope.js'
import type { AnyEventCatalog } from '../../events.js'
import { checkReadStream } from '../../store/kit/arguments.js'
import { readsStoredText } from '../../store/kit/storedText.js'
import { SyncRequestError } from '../errors.js'
import type { HeadResponse, LeaseRequest } from '../protocol.js'
import { appendOnce } from './appendOnce.js'
import { parseAppendRequest, validateAgainstCatalogs } from './appendRequest.js'
import { readJsonBody, sendJson, sendNdjson } from './http.js'
import { serveLiveFeed } from './liveFeed.js'
import type { LiveFeeds } from './LiveFeeds.js'
import { eventNames, header, wholeNumber } from './requestParts.js'
import { sendStoredNdjson } from './storedLines.js'
import { firstVersionFrom } from './streamFromPosition.js'
import type { SyncAccess } from './SyncAccess.js'

/** What the routes of one sync server share: its store, its hooks and its bounds. */
export interface SyncServerParts<U> {
  readonly container: Container
  readonly access: SyncAccess<U>
  readonly feeds: LiveFeeds
  readonly catalogs: readonly AnyEventCatalog[] | undefined
  readonly maxBodyBytes: number
  readonly maxBatch: number
  readonly heartbeatMs: number
  readonly leaseClock: 'server' | 'caller'
  readonly userKey: (user: U) => string
  /** Asks `authenticate` again with the request's token (a live feed, at each re-authorization). */
  readonly whoIs: (req: IncomingMessage, url: URL) => Promise<U | undefined>
}

/** One request, authenticated, as a route sees it: `params` are the path's `:name` segments, decoded. */
export interface RouteRequest<U> {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  readonly query: URLSearchParams
  readonly params: readonly string[]
  readonly user: U
}

/** A request of the protocol: its method, its path (`:name` matches one segment) and what serves it. */
export interface SyncRoute<U> {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly serve: (request: RouteRequest<U>) => Promise<void>
}

/**
 * The sync protocol (docs/sync.md) as a table, one row per request, each row's `serve`
 * authorizing what it reads or writes before it begins its answer.
 */
export function syncRoutes<U>(server: SyncServerParts<U>): ReadonlyArray<SyncRoute<U>> {
  const store = server.container.store
  const { access } = server

  return [
    {
      method: 'GET',
      path: '/head',
      async serve({ res, user }) {
        // How many events the whole log holds is the user's to know only if `authorize` says so.
        await access.demand({ user, action: 'read' })
        // The store's id limit, when it has one, so that clients derive names that fit it.
        const head: HeadResponse = { position: await store.headPosition(), ...(store.maxIdBytes !== undefined ? { maxIdBytes: store.maxIdBytes } : {}) }
        sendJson(res, 200, head)
      },
    },
    {
      method: 'GET',
      path: '/events',
      async serve({ res, query, user }) {
        const streamId = query.get('streamId') ?? undefined
        const names = eventNames(query)
        if (streamId !== undefined) await access.demandRead(user, streamId)
        const fromPosition = wholeNumber(query.get('fromPosition'), 'fromPosition') ?? 1
        const filter = access.readFilter(user)
        const wanted = (e: Pick<EventEnvelope, 'streamId' | 'name'>) => (!names || names.includes(e.name)) && filter(e)
        // One stream: its own rows, from the first version at that position, not the whole log.
        if (streamId !== undefined) return sendNdjson(res, store.readStream(streamId, { fromVersion: await firstVersionFrom(store, streamId, fromPosition) }), wanted)
        // The stored text passes through when the store offers it: no decoding and encoding again.
        if (readsStoredText(store)) return sendStoredNdjson(res, store, fromPosition, wanted)
        return sendNdjson(res, store.readAll({ fromPosition }), wanted)
      },
    },
    {
      method: 'GET',
      path: '/live',
      serve: (request) => live(server, request),
    },
    {
      method: 'GET',
      path: '/streams/:id',
      async serve({ res, params: [streamId], user }) {
        await access.demandRead(user, streamId!)
        sendJson(res, 200, { streamId, version: await store.streamVersion(streamId!) })
      },
    },
    {
      method: 'GET',
      path: '/streams/:id/events',
      async serve({ res, query, params: [streamId], user }) {
        await access.demandRead(user, streamId!)
        const fromVersion = wholeNumber(query.get('fromVersion'), 'fromVersion')
        const toVersion = wholeNumber(query.get('toVersion'), 'toVersion')
        const range = { ...(fromVersion !== undefined ? { fromVersion } : {}), ...(toVersion !== undefined ? { toVersion } : {}) }
        checkReadStream(streamId, range)
        return sendNdjson(res, store.readStream(streamId!, range), access.readFilter(user))
      },
    },
    {
      method: 'POST',
      path: '/streams/:id/events',
      async serve({ req, res, params: [streamId], user }) {
        const request = parseAppendRequest(await readJsonBody(req, server.maxBodyBytes), server.maxBatch, store.maxIdBytes)
        // An empty batch is the store's to refuse (400), but only where the user may append.
        if (request.events.length === 0) await access.demand({ user, action: 'append', streamId: streamId! })
        for (const event of request.events) await access.demand({ user, action: 'append', streamId: streamId!, eventName: event.name })
        if (request.lease) await access.demand({ user, action: 'lease', lease: request.lease.name })
        const events = server.catalogs ? validateAgainstCatalogs(request.events, server.catalogs) : request.events
        sendJson(res, 200, await appendOnce(store, streamId!, events, { expectedVersion: request.expectedVersion, ...(request.lease ? { lease: request.lease } : {}) }))
      },
    },
    {
      method: 'GET',
      path: '/leases/:name',
      async serve({ res, params: [name], user }) {
        await access.demand({ user, action: 'lease', lease: name! })
        sendJson(res, 200, { lease: (await store.readLease(name!)) ?? null })
      },
    },
    {
      method: 'POST',
      path: '/leases/:name',
      async serve({ req, res, params: [name], user }) {
        await access.demand({ user, action: 'lease', lease: name! })
        sendJson(res, 200, { lease: await lease(server, name!, await readJsonBody(req, server.maxBodyBytes)) })
      },
    },
  ]
}

/** The route whose method and path match, with the path's `:name` segments; undefined for none. */
export function findRoute<U>(routes: ReadonlyArray<SyncRoute<U>>, method: string, segments: readonly string[]): { route: SyncRoute<U>; params: string[] } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue
    const pattern = route.path.split('/').slice(1)
    if (pattern.length !== segments.length) continue
    const params: string[] = []
    if (pattern.every((part, i) => (part.startsWith(':') ? params.push(segments[i]!) > 0 : part === segments[i]))) return { route, params }
  }
  return undefined
}

/**
 * `GET /live`: Server-Sent Events from a position (or right after `Last-Event-ID`). Every
 * `reauthorizeMs` the feed asks again who the token is and, for one stream, whether that user
 * may still read it: a refusal ends the feed (the client's reconnection is then refused), and
 * the per-event answers are forgotten so that a name refused since is filtered from then on.
 */
async function live<U>(server: SyncServerParts<U>, { req, res, url, query, user }: RouteRequest<U>): Promise<void> {
  const streamId = query.get('streamId') ?? undefined
  if (streamId !== undefined) await server.access.demandRead(user, streamId)
  const lastEventId = wholeNumber(header(req, 'last-event-id'), 'Last-Event-ID')
  const fromPosition = lastEventId !== undefined ? lastEventId + 1 : (wholeNumber(query.get('fromPosition'), 'fromPosition') ?? 1)
  const names = eventNames(query)
  const key = server.userKey(user)
  const canRead = server.access.readFilter(user)
  const release = server.feeds.add(key, res, () => {
    recheck(server, req, url, key, streamId).then(
      (ok) => (ok ? canRead.forget() : res.end()),
      () => res.end(),
    )
  })
  try {
    await serveLiveFeed(server.container.store, res, { fromPosition, heartbeatMs: server.heartbeatMs, canRead, ...(streamId !== undefined ? { streamId } : {}), ...(names ? { names } : {}) })
  } finally {
    release()
  }
}

/** Whether the feed's token still names its user and, for one stream, that user may still read it. */
async function recheck<U>(server: SyncServerParts<U>, req: IncomingMessage, url: URL, key: string, streamId: string | undefined): Promise<boolean> {
  const user = await server.whoIs(req, url)
  if (!user || server.userKey(user) !== key) return false
  return streamId === undefined || (await server.access.allowed({ user, action: 'read', streamId }))
}

async function lease<U>(server: SyncServerParts<U>, name: string, body: unknown) {
  const store = server.container.store
  const r = body as LeaseRequest
  if (typeof r !== 'object' || r === null || typeof r.owner !== 'string') throw new SyncRequestError('BAD_REQUEST', 400, 'a lease request is { op, owner, ttlMs?, term?, now? }')
  const now = server.leaseClock === 'caller' && typeof r.now === 'number' ? r.now : server.container.clock.now()
  if (r.op === 'acquire') return store.acquireLease(name, r.owner, positive(r.ttlMs, 'ttlMs'), now)
  if (r.op === 'renew') return store.renewLease(name, r.owner, positive(r.term, 'term'), positive(r.ttlMs, 'ttlMs'), now)
  if (r.op === 'release') {
    await store.releaseLease(name, r.owner, positive(r.term, 'term'), now)
    return (await store.readLease(name)) ?? null
  }
  throw new SyncRequestError('BAD_REQUEST', 400, 'op must be acquire, renew or release')
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new SyncRequestError('BAD_REQUEST', 400, `${what} must be a number >= 0`)
  return value
}
