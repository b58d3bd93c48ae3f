import { EventSource } from 'eventsource'

// A sync client written from docs/sync.md alone, as someone without this library would write
// it: `fetch` for requests and the `eventsource` package for the live feed. It imports nothing
// from omniscient-actors (spec/sync/outside/client.spec.ts checks that), so the docs, not the
// library's code, are what it was written against.

/** An envelope as the protocol sends it. */
export interface WireEvent {
  readonly id: string
  readonly streamId: string
  readonly version: number
  readonly position: number
  readonly name: string
  readonly data?: unknown
  readonly schemaVersion: number
  readonly at: number
  readonly meta: Record<string, unknown>
}

/** An event to append: the client makes its id. */
export interface OutgoingEvent {
  readonly id: string
  readonly name: string
  readonly data?: unknown
  readonly schemaVersion: number
  readonly at: number
}

/** A refusal: the status and the protocol's `{ error: { code, message, ... } }`. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, unknown>,
  ) {
    super(`${status} ${code}: ${message}`)
  }
}

export class OutsideClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly retry = { attempts: 50, delayMs: 100 },
  ) {}

  private get auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.token}` }
  }

  /**
   * The whole log from `fromPosition`, as far as the user may read it. A cut-off answer (the
   * connection closed before the chunked end) throws, so a caller never takes it for complete.
   */
  async catchUp(fromPosition = 1): Promise<WireEvent[]> {
    const response = await fetch(`${this.url}/events?fromPosition=${fromPosition}`, { headers: this.auth })
    if (!response.ok) throw await refusal(response)
    // text() rejects when the answer was cut: only a clean end resolves.
    const text = await response.text()
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as WireEvent)
  }

  /** `GET /streams/:id`: the stream's version (0 when it has no events). */
  async version(streamId: string): Promise<number> {
    const response = await fetch(`${this.url}/streams/${encodeURIComponent(streamId)}`, { headers: this.auth })
    if (!response.ok) throw await refusal(response)
    return ((await response.json()) as { version: number }).version
  }

  /**
   * Appends with the client's ids, sending the very same body again while the server cannot be
   * reached or fails (5xx): each event is stored once, and a resend of a batch that did land
   * answers with the stored events (`alreadyStored: true`). A 4xx is the server's refusal.
   */
  async append(streamId: string, expectedVersion: number | 'any', events: readonly OutgoingEvent[]): Promise<{ events: WireEvent[]; alreadyStored: boolean; attempts: number }> {
    const body = JSON.stringify({ expectedVersion, events })
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined
      try {
        response = await fetch(`${this.url}/streams/${encodeURIComponent(streamId)}/events`, {
          method: 'POST',
          headers: { ...this.auth, 'Content-Type': 'application/json' },
          body,
        })
      } catch (err) {
        if (attempt >= this.retry.attempts) throw err
      }
      if (response && response.status < 500) {
        if (!response.ok) throw await refusal(response)
        return { ...((await response.json()) as { events: WireEvent[]; alreadyStored: boolean }), attempts: attempt }
      }
      if (response && attempt >= this.retry.attempts) throw await refusal(response)
      await new Promise((resolve) => setTimeout(resolve, this.retry.delayMs))
    }
  }

  /**
   * Follows the log live from right after `lastEventId` (the position of the last event
   * already held). The first request sends it as `Last-Event-ID`; after a lost connection
   * EventSource reconnects by itself and sends the id of the last event it received.
   */
  follow(lastEventId: number, onEvent: (event: WireEvent) => void): { close(): void; readonly source: EventSource } {
    const token = this.token
    const source = new EventSource(`${this.url}/live`, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { 'Last-Event-ID': String(lastEventId), ...init.headers, Authorization: `Bearer ${token}` },
        }),
    })
    source.onmessage = (message) => onEvent(JSON.parse(message.data as string) as WireEvent)
    return { source, close: () => source.close() }
  }
}

async function refusal(response: Response): Promise<Refused> {
  const text = await response.text()
  try {
    const { error } = JSON.parse(text) as { error: { code: string; message: string } & Record<string, unknown> }
    return new Refused(response.status, error.code, error.message, error)
  } catch {
    return new Refused(response.status, 'NOT_THE_PROTOCOL', text.slice(0, 200), {})
  }
}
