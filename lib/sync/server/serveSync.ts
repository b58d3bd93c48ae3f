import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkOptions } from '../../checkOptions.js'
import type { Container } from '../../Container.js'
import { InvalidOptionsError } from '../../errors.js'
import type { AnyEventCatalog } from '../../events.js'
import { SyncAccessError, SyncRequestError } from '../errors.js'
import { discardBody, sendError } from './http.js'
import { LiveFeeds } from './LiveFeeds.js'
import { bearerToken, decodeSegment, requestUrl } from './requestParts.js'
import { SyncAccess, type SyncPermission } from './SyncAccess.js'
import { findRoute, syncRoutes, type SyncServerParts } from './syncRoutes.js'
import { observeGauges } from '../../telemetry/metrics.js'
import { endHttpSpan, startServerSpan, syncRoute } from '../../telemetry/spans.js'


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
  /**
   * Decides each read, append and lease request (and `GET /head`: a `read` without a stream);
   * anything but `true` refuses it (403), and nothing is read or stored.
   */
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
  /**
   * How often a live feed asks `authenticate` and `authorize` again, so that a revoked token or
   * permission ends it (or, for one event name, filters it) within this bound. Default 30 s.
   */
  readonly reauthorizeMs?: number
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
  checkOptions('serveSync', options, OPTIONS, ['authenticate', 'authorize'])
  for (const hook of ['authenticate', 'authorize'] as const) {
    if (typeof options[hook] !== 'function') throw new InvalidOptionsError('serveSync', [], OPTIONS, `${hook} must be a function, got ${typeof options[hook]}`)
  }
  // '/sync' and '/sync/' mount at the same place; '' serves every path.
  const prefix = (options.prefix ?? '').replace(/\/+$/, '')
  const feeds = new LiveFeeds(options.maxLiveFeedsPerUser ?? 16, options.reauthorizeMs ?? 30_000)
  const whoIs = async (req: IncomingMessage, url: URL): Promise<U | undefined> => {
    const user = await options.authenticate(bearerToken(req, url), req)
    // Every falsy answer is nobody: `map.get(t) ?? null` must not let a request in.
    return user ? user : undefined
  }
  const server: SyncServerParts<U> = {
    container,
    access: new SyncAccess(options.authorize),
    feeds,
    catalogs: options.events,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxBatch: options.maxBatch ?? 1_000,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    leaseClock: options.leaseClock ?? 'server',
    userKey: options.userKey ?? ((u: U) => (typeof u === 'string' ? u : JSON.stringify(u))),
    whoIs,
  }
  const routes = syncRoutes(server)

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    // A server span continuing the client's traceparent, when an OpenTelemetry SDK is registered.
    const span = startServerSpan(req.method ?? 'GET', syncRoute(url.pathname.slice(prefix.length)), req.headers.traceparent)
    if (span) res.once('close', () => endHttpSpan(span, res.statusCode))
    const user = await whoIs(req, url)
    if (user === undefined) throw new SyncAccessError('UNAUTHENTICATED', undefined, undefined, undefined)
    const path = url.pathname.slice(prefix.length) || '/'
    const method = req.method ?? 'GET'
    const found = findRoute(routes, method, path.split('/').slice(1).map(decodeSegment))
    if (!found) throw new SyncRequestError('NOT_FOUND', 404, `no ${method} ${path} in the sync protocol (docs/sync.md)`)
    await found.route.serve({ req, res, url, query: url.searchParams, params: found.params, user })
  }

  const handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const url = requestUrl(req.url)
    if (!url) return sendError(res, new SyncRequestError('BAD_REQUEST', 400, 'the request target is not a URL path'))
    // Whole segments: with prefix '/sync', '/sync-admin' and '/syncfoo' are not the server's.
    if (!(url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))) {
      if (next) return next()
      return sendError(res, new SyncRequestError('NOT_FOUND', 404, `not under ${prefix}`))
    }
    if (options.allowOrigin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', options.allowOrigin)
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Last-Event-ID, traceparent')
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
    }
    serve(req, res, url).catch((err: unknown) => {
      sendError(res, err)
      // What the client still sends is read and dropped, so that it reads the answer.
      discardBody(req)
    })
  }

  // defineProperty, not Object.assign: assign would copy the getter's value once.
  const served = Object.defineProperties(handler, {
    close: {
      value: async () => feeds.closeAll(),
    },
    liveFeeds: { get: () => feeds.size },
  }) as SyncHandler
  observeGauges(served, (h, observe) => observe('omniscient.sync.followers', h.liveFeeds))
  return served
}

const OPTIONS = [
  'authenticate',
  'authorize',
  'events',
  'prefix',
  'maxBodyBytes',
  'maxBatch',
  'maxLiveFeedsPerUser',
  'userKey',
  'heartbeatMs',
  'reauthorizeMs',
  'leaseClock',
  'allowOrigin',
]
