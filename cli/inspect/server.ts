import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { InvalidArgumentError, type ActorClass, type StorageAdapter } from '../../node.js'
import { bearerTokens } from '../../lib/auth/bearerTokens.js'
import { listLeases, listStreams } from '../storeCatalog.js'
import { leaseStanding } from '../format.js'
import { readerPositions } from '../positions.js'
import type { Step } from '../replay/timeTravel.js'
import { replayActor } from '../replay/timeTravel.js'
import { causationChain } from './causationChain.js'
import { streamEvents } from './sse.js'
import { inspectorDir, staticFile } from './staticFiles.js'

/** Options of `createInspector`. */
export interface InspectorOptions {
  readonly store: StorageAdapter
  /** What the page shows as the store's name (a URL without its password). */
  readonly storeName: string
  /** The actor classes one can replay, by name. */
  readonly actors?: ReadonlyMap<string, ActorClass>
  /** Required on every request when set (`?token=` once, then a cookie). */
  readonly token?: string
  /**
   * Refuse requests whose Host header is not a loopback name with the listening port: a page
   * on another site cannot reach the inspector through DNS rebinding. For loopback servers.
   */
  readonly loopbackHostsOnly?: boolean
  /** The clock lease standings are worded against (ms since the epoch). Default `Date.now`. */
  readonly now?: () => number
  /**
   * Where a trace can be seen, with `{traceId}` (and optionally `{spanId}`) in it, e.g.
   * `http://localhost:16686/trace/{traceId}`: an event that carries a `traceparent` then links
   * to its trace (docs/telemetry.md).
   */
  readonly traceUrl?: string
}

const MAX_EVENTS_PAGE = 1_000
const COOKIE = 'omniscient_inspector'

/**
 * The inspector's HTTP server: the page (inspector/), a read-only JSON API over the store and
 * live events as Server-Sent Events. Only GET is answered.
 *
 * @example
 * const server = createInspector({ store, storeName: 'sqlite:./app.db' })
 * server.listen(4321, '127.0.0.1')
 */
export function createInspector(options: InspectorOptions): Server {
  const root = inspectorDir()
  const actors = options.actors ?? new Map<string, ActorClass>()
  const isToken = options.token === undefined ? undefined : bearerTokens({ [options.token]: true as const })
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, err instanceof BadRequest || err instanceof InvalidArgumentError ? 400 : 500, { error: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code })
      else res.end()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://inspector')
    res.setHeader('x-content-type-options', 'nosniff')
    res.setHeader('referrer-policy', 'no-referrer')
    if (options.loopbackHostsOnly && !isLoopbackHost(req.headers.host, server)) {
      return json(res, 403, { error: `host "${req.headers.host}" is not allowed` })
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'the inspector is read-only' })
    if (isToken && !authorised(req, url, isToken)) return json(res, 401, { error: 'a token is needed: open the URL the command printed' })
    if (isToken && isToken(url.searchParams.get('token') ?? undefined)) {
      res.setHeader('set-cookie', `${COOKIE}=${options.token}; HttpOnly; SameSite=Strict; Path=/`)
    }
    if (url.pathname === '/' || url.pathname === '/index.html') return file(res, '/index.html')
    if (url.pathname.startsWith('/static/')) return file(res, url.pathname.slice('/static'.length))
    if (url.pathname.startsWith('/api/')) return api(url, req, res)
    json(res, 404, { error: 'not found' })
  }

  async function file(res: ServerResponse, path: string): Promise<void> {
    const found = await staticFile(root, path)
    if (!found) return json(res, 404, { error: 'not found' })
    res.writeHead(200, {
      'content-type': found.type,
      'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:",
    })
    res.end(found.body)
  }

  async function api(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const q = url.searchParams
    const store = options.store
    switch (url.pathname) {
      case '/api/info':
        return json(res, 200, {
          store: options.storeName,
          head: await store.headPosition(),
          actors: [...actors.keys()],
          traceUrl: options.traceUrl ?? null,
          // What the page tells the user the store cannot do (the Positions view learns about
          // checkpoints from /api/positions).
          can: { listStreams: store.listStreams !== undefined, listLeases: store.listLeases !== undefined },
        })
      case '/api/streams':
        return json(
          res,
          200,
          await listStreams(store, {
            limit: Math.min(numberParam(q, 'limit') ?? 100, 500),
            ...(q.get('contains') ? { contains: q.get('contains')! } : {}),
            ...(q.get('after') ? { after: q.get('after')! } : {}),
          }),
        )
      case '/api/events': {
        const streamId = required(q, 'stream')
        const from = numberParam(q, 'from') ?? 1
        const to = Math.min(numberParam(q, 'to') ?? Number.MAX_SAFE_INTEGER, from + MAX_EVENTS_PAGE - 1)
        const events = []
        for await (const e of store.readStream(streamId, { fromVersion: from, toVersion: to })) events.push(e)
        return json(res, 200, { version: await store.streamVersion(streamId), events })
      }
      case '/api/state': {
        const streamId = required(q, 'stream')
        const name = required(q, 'actor')
        const Class = actors.get(name)
        if (!Class) return json(res, 404, { error: `no actor class "${name}" (known: ${[...actors.keys()].join(', ') || 'none: start with --actors <module>'})` })
        let last: Step | undefined
        const at = numberParam(q, 'at')
        // Only the last step's state and changes are wanted: copies start one version before it.
        const result = await replayActor(Class, store, streamId, {
          ...(at !== undefined ? { toVersion: at, stepsFrom: at } : {}),
          onStep: (step) => void (last = step),
        })
        return json(res, 200, { ...result, event: last?.event ?? null, changes: last?.changes ?? [] })
      }
      case '/api/leases': {
        // Worded here, by the CLI's function, so the page and `omniscient leases` say the same.
        const now = (options.now ?? Date.now)()
        const leases = await listLeases(store)
        return json(res, 200, { leases: leases?.map((l) => ({ ...l, standing: leaseStanding(l, now) })) ?? null })
      }
      case '/api/chain': {
        const chain = await causationChain(store, required(q, 'id'))
        if (!chain) return json(res, 404, { error: `no event with id "${q.get('id')}"` })
        return json(res, 200, chain)
      }
      case '/api/positions':
        return json(res, 200, await readerPositions(store))
      case '/api/live': {
        const lastId = Number(req.headers['last-event-id'])
        const from = Number.isInteger(lastId) && lastId > 0 ? lastId + 1 : (numberParam(q, 'from') ?? (await store.headPosition()) + 1)
        const names = q.get('names')?.split(',').filter((n) => n.length > 0)
        streamEvents(store, res, { fromPosition: from, ...(q.get('stream') ? { streamId: q.get('stream')! } : {}), ...(names && names.length > 0 ? { names } : {}) })
        return
      }
      default:
        return json(res, 404, { error: `no API ${url.pathname}` })
    }
  }

  return server
}

function isLoopbackHost(host: string | undefined, server: Server): boolean {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : undefined
  return ['127.0.0.1', 'localhost', '[::1]'].some((name) => host === `${name}:${port}`)
}

// In constant time, as the sync server compares its tokens: a refusal's timing tells nothing.
function authorised(req: IncomingMessage, url: URL, isToken: (given: string | undefined) => true | undefined): boolean {
  if (isToken(url.searchParams.get('token') ?? undefined)) return true
  const cookies = (req.headers.cookie ?? '').split(';').map((c) => c.trim())
  return cookies.some((c) => c.startsWith(`${COOKIE}=`) && isToken(c.slice(COOKIE.length + 1)) === true)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

class BadRequest extends Error {}

function required(q: URLSearchParams, name: string): string {
  const value = q.get(name)
  if (!value) throw new BadRequest(`the "${name}" parameter is missing`)
  return value
}

function numberParam(q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name)
  if (text === null || text === '') return undefined
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new BadRequest(`"${name}" must be a whole number, not "${text}"`)
  return n
}
