import type { EventEnvelope } from '../envelope.js'
import type { OmniscientError } from '../errors.js'
import { Deadline } from './Deadline.js'
import { SyncProtocolError, SyncUnavailableError } from './errors.js'
import { envelopeReader, NDJSON, parseWireJson } from './protocol.js'
import { catchUpMeasured } from '../telemetry/metrics.js'
import { endHttpSpan, startClientSpan, syncRoute, traceparentOf } from '../telemetry/spans.js'
import { errorFromWire } from './wireErrors.js'

/** How long a request to the sync server may go unanswered, unless `callTimeoutMs` says otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000

/** The fetch function a client uses; the platform's by default. */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>

/** A request's query parameters; a list is sent as the parameter repeated, one value each. */
export type Query = Record<string, string | number | readonly string[] | undefined>

/**
 * The requests of the sync protocol over `fetch`, with the bearer token on each. A failure to
 * reach the server is `SyncUnavailableError`; a refusal is the typed error the server sent.
 */
export class HttpClient {
  private readonly base: string
  /** Called on each answer in the protocol (a body it could read, or a protocol error). */
  onAnswer: () => void = () => {}

  constructor(
    url: string,
    private readonly token: string | undefined,
    private readonly fetchFn: Fetch,
    /** Every request's deadline (RemoteStore's `callTimeoutMs`); for a streamed answer, between chunks. */
    readonly timeoutMs: number = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    this.base = url.replace(/\/+$/, '')
  }

  urlOf(path: string, query: Query = {}): string {
    const params = Object.entries(query).flatMap(([k, v]) => (v === undefined ? [] : typeof v === 'object' ? v : [v]).map((one) => `${k}=${encodeURIComponent(String(one))}`))
    return `${this.base}${path}${params.length > 0 ? `?${params.join('&')}` : ''}`
  }

  /** A deadline for one request (see Deadline); `indeterminate` when it may write. */
  deadline(method: string, path: string, indeterminate: boolean, signal?: AbortSignal): Deadline {
    return new Deadline(this.base, `${method} ${path}`, this.timeoutMs, indeterminate ? 'STORAGE_INDETERMINATE' : 'STORAGE_UNAVAILABLE', signal)
  }

  /**
   * Sends a request; resolves with the response when its status is 2xx. Its `deadline` (one of
   * its own when not given) bounds the wait for the answer; the caller clears one it gave.
   */
  async request(path: string, init: RequestInit & { query?: Query; deadline?: Deadline } = {}): Promise<Response> {
    const deadline = init.deadline ?? this.deadline(init.method ?? 'GET', path, false, init.signal ?? undefined)
    try {
      const response = await this.send(path, { ...init, signal: deadline.signal })
      if (deadline.expired) throw deadline.expired
      return response
    } catch (err) {
      // Aborted by the caller (a subscription closing): its own business, as it threw.
      if (init.signal?.aborted) throw err
      throw deadline.expired ?? err
    } finally {
      if (!init.deadline) deadline.clear()
    }
  }

  private async send(path: string, init: RequestInit & { query?: Query }): Promise<Response> {
    const url = this.urlOf(path, init.query)
    const headers = new Headers(init.headers)
    if (this.token !== undefined) headers.set('Authorization', `Bearer ${this.token}`)
    if (init.body !== undefined) headers.set('Content-Type', 'application/json')
    // A client span (when an OpenTelemetry SDK is registered) whose traceparent the server continues.
    const span = startClientSpan(init.method ?? 'GET', syncRoute(path), url)
    if (span) headers.set('traceparent', traceparentOf(span))
    let response: Response
    try {
      response = await this.fetchFn(url, { ...init, headers })
    } catch (err) {
      endHttpSpan(span, undefined, err)
      throw new SyncUnavailableError(this.base, err)
    }
    endHttpSpan(span, response.status)
    if (response.ok) return response
    throw await this.errorOf(response)
  }

  async errorOf(response: Response): Promise<OmniscientError> {
    const text = await response.text().catch(() => '')
    let body: unknown
    try {
      body = parseWireJson(text)
    } catch {
      body = undefined
    }
    const err = errorFromWire(response.status, body)
    // Not a refusal in the protocol: a page of another server, a proxy's error page.
    if (err.code === 'BAD_RESPONSE') return new SyncProtocolError(this.base, response.status, describeBody(response, text))
    this.onAnswer()
    return err
  }

  async getJson<T>(path: string, query?: Query): Promise<T> {
    return (await this.answer('GET', path, false, query ? { query } : {})) as T
  }

  /** A POST: its deadline passed, it may have been applied (STORAGE_INDETERMINATE). */
  async postJson<T>(path: string, body: unknown): Promise<T> {
    return (await this.answer('POST', path, true, { method: 'POST', body: JSON.stringify(body) })) as T
  }

  /** A request and its JSON answer, within one deadline. */
  private async answer(method: string, path: string, writes: boolean, init: RequestInit & { query?: Query }): Promise<unknown> {
    const deadline = this.deadline(method, path, writes)
    try {
      return await this.json(await this.request(path, { ...init, deadline }))
    } catch (err) {
      throw deadline.expired ?? err
    } finally {
      deadline.clear()
    }
  }

  private async json(response: Response): Promise<unknown> {
    let text: string
    try {
      text = await response.text()
    } catch (err) {
      throw new SyncUnavailableError(this.base, err)
    }
    let value: unknown
    try {
      value = parseWireJson(text)
    } catch (err) {
      throw new SyncProtocolError(this.base, response.status, describeBody(response, text), err)
    }
    if (typeof value !== 'object' || value === null) throw new SyncProtocolError(this.base, response.status, describeBody(response, text))
    this.onAnswer()
    return value
  }

  /** Streams the envelopes of an NDJSON catch-up response as they arrive, one at a time. */
  async *events(path: string, query: Query): AsyncGenerator<EventEnvelope> {
    for await (const page of this.pages(path, query)) yield* page
  }

  /**
   * Streams the envelopes of an NDJSON catch-up response a network chunk at a time. Each
   * chunk's complete lines are parsed with one JSON.parse (JSON text holds no raw newline, so
   * the lines joined by commas are an array): several times faster than a parse per line, and
   * a reader that takes pages awaits once per chunk rather than once per event.
   */
  async *pages(path: string, query: Query): AsyncGenerator<EventEnvelope[]> {
    // Between chunks, not over the whole answer: a long catch-up goes on, a silent link does not.
    const deadline = this.deadline('GET', path, false)
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
    try {
      const response = await this.request(path, { query, headers: { Accept: NDJSON }, deadline })
      if (!response.body) return
      await this.expectType(response, NDJSON)
      reader = response.body.getReader()
      const decoder = new TextDecoder()
      const envelopes = envelopeReader()
      let rest = ''
      for (;;) {
        deadline.reset()
        const { done, value } = await reader.read()
        deadline.clear()
        const text = rest + (done ? decoder.decode() : decoder.decode(value, { stream: true }))
        const cut = done ? text.length : text.lastIndexOf('\n')
        rest = cut >= 0 ? text.slice(cut + 1) : text
        if (cut > 0) {
          const body = text.slice(0, cut).trim()
          if (body.length > 0) {
            const page = (parseWireJson(`[${body.replaceAll('\n', ',')}]`) as unknown[]).map(envelopes)
            catchUpMeasured('device', page.length)
            yield page
          }
        }
        if (done) return
      }
    } catch (err) {
      if (deadline.expired) throw deadline.expired
      // Reading the body: a cut connection or a cut line (the request's own failures are typed).
      if (reader && (err instanceof TypeError || err instanceof SyntaxError || (err as Error).name === 'AbortError')) throw new SyncUnavailableError(this.base, err)
      throw err
    } finally {
      deadline.clear()
      await reader?.cancel().catch(() => undefined)
    }
  }

  /**
   * Throws SyncProtocolError unless the answer is of `type` (a page of another server, a
   * proxy's error page); otherwise the server has answered in the protocol.
   */
  async expectType(response: Response, type: string, url = this.base): Promise<void> {
    if (!(response.headers.get('Content-Type') ?? '').startsWith(type)) {
      throw new SyncProtocolError(url, response.status, describeBody(response, await response.text().catch(() => '')))
    }
    this.onAnswer()
  }
}

/** An answer's content type and first characters, for an error that says what came back. */
function describeBody(response: Response, text: string): string {
  const type = response.headers.get('Content-Type') ?? 'no content type'
  const start = text.trim().slice(0, 60).replace(/\s+/g, ' ')
  return `${type}${start.length > 0 ? ` (${JSON.stringify(start)}${text.trim().length > 60 ? '...' : ''})` : ', empty'}`
}
