import { OmniscientError } from '../errors.js'

/** What a request to the sync server asked to do, as `authorize` and the errors name it. */
export type SyncAction = 'read' | 'append' | 'lease'

/**
 * The sync server refused who was asking: no valid token (`UNAUTHENTICATED`, 401), or the
 * `authorize` hook said no (`FORBIDDEN`, 403). Nothing was read or stored.
 *
 * @example
 * catch (err) { if (err instanceof SyncAccessError) console.log(err.action, err.streamId, err.eventName) }
 */
export class SyncAccessError extends OmniscientError {
  constructor(
    code: 'UNAUTHENTICATED' | 'FORBIDDEN',
    readonly action: SyncAction | undefined,
    readonly streamId: string | undefined,
    readonly eventName: string | undefined,
    message?: string,
  ) {
    super(code, message ?? describeRefusal(code, action, streamId, eventName))
  }
}

function describeRefusal(code: string, action?: string, streamId?: string, eventName?: string): string {
  if (code === 'UNAUTHENTICATED') return 'the sync server needs a valid token (Authorization: Bearer ...)'
  const what = eventName !== undefined ? ` event "${eventName}"` : ''
  const where = streamId !== undefined ? ` on stream "${streamId}"` : ''
  return `not allowed to ${action ?? 'do that'}${what}${where}; nothing was read or stored`
}

/**
 * The sync server refused a request as malformed or too large: `BAD_REQUEST`, `BODY_TOO_LARGE`,
 * `BATCH_TOO_LARGE`, `TOO_MANY_CONNECTIONS`, `NOT_FOUND`, `METHOD_NOT_ALLOWED`. `status` is
 * the HTTP status it came with. Nothing was stored.
 *
 * @example
 * catch (err) { if (err instanceof SyncRequestError && err.code === 'BATCH_TOO_LARGE') splitBatch() }
 */
export class SyncRequestError extends OmniscientError {
  constructor(
    code: string,
    readonly status: number,
    message: string,
  ) {
    super(code, message)
  }
}

/**
 * The sync server could not be reached, or answered with something that is not the protocol.
 * A RemoteStore retries reads and live delivery by itself; an append that failed so may or may
 * not have been stored: send it again with the same ids and it is stored once.
 *
 * @example
 * catch (err) { if (err instanceof SyncUnavailableError) showOffline() }
 */
export class SyncUnavailableError extends OmniscientError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super('UNREACHABLE', `the sync server at ${url} could not be reached: ${describeFailure(cause)}`, { cause })
  }
}

// fetch's own message is "fetch failed"; what failed (ECONNREFUSED, ENOTFOUND...) is in its cause.
function describeFailure(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause)
  const inner = cause instanceof Error ? (cause.cause as { code?: unknown; message?: unknown } | undefined) : undefined
  const detail = typeof inner?.code === 'string' ? inner.code : typeof inner?.message === 'string' ? inner.message : undefined
  return detail !== undefined && !message.includes(detail) ? `${message} (${detail})` : message
}

/**
 * A stream read could not be completed: the sync server's answer was cut off (and could not be
 * resumed) after events the local copy cannot continue, so what was read is neither the whole
 * range nor the device's last known state. `lastVersion` is the last version the read gave (0:
 * none), `heldVersion` how far the copy holds the stream. Read again once the server is back.
 *
 * @example
 * catch (err) { if (err instanceof IncompleteReadError) retryLater(err.streamId, err.lastVersion + 1) }
 */
export class IncompleteReadError extends OmniscientError {
  constructor(
    readonly streamId: string,
    readonly lastVersion: number,
    readonly heldVersion: number,
    cause: unknown,
  ) {
    super(
      'INCOMPLETE_READ',
      `stream "${streamId}": the read was cut off after version ${lastVersion} and the sync server cannot be reached to finish it; the local copy holds versions 1..${heldVersion} only`,
      { cause },
    )
  }
}

/**
 * The sync server's URL answered with something that is not the sync protocol: an HTML page,
 * JSON of another shape, a 404 of another server (a mistyped path or port, a proxy's error
 * page). Reported at once while this device has never had a protocol answer from that URL;
 * afterwards (a captive portal, a proxy between restarts) it counts as being offline.
 *
 * @example
 * catch (err) { if (err instanceof SyncProtocolError) console.error(`check the URL: ${err.url}`) }
 */
export class SyncProtocolError extends SyncUnavailableError {
  constructor(
    url: string,
    /** The HTTP status of the answer. */
    readonly status: number,
    detail: string,
    cause?: unknown,
  ) {
    super(url, cause ?? new Error(detail))
    Object.defineProperty(this, 'code', { value: 'NOT_SYNC_PROTOCOL' })
    Object.defineProperty(this, 'message', { value: `${url} does not speak the sync protocol: it answered ${status} with ${detail}`, writable: true, configurable: true })
  }
}

/**
 * The sync server has never answered this device (not in this run, and its local copy has no
 * trace of an earlier answer): most likely a mistyped URL or a server that is not running.
 * Offline mode (queued appends, reads from the copy) starts once the server has answered once,
 * so a wrong URL fails at once instead of looking like being offline. `cause` is the failure.
 *
 * @example
 * catch (err) { if (err instanceof SyncNeverReachedError) showSetupError(err.url) }
 */
export class SyncNeverReachedError extends OmniscientError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      'NEVER_REACHED',
      `the sync server at ${url} has never answered this device (${cause instanceof Error ? cause.message : String(cause)}): check the URL; offline mode starts once it has answered once`,
      { cause },
    )
  }
}

/**
 * The sync server did not answer within the deadline (`callTimeoutMs`), or a live feed stayed
 * silent past `liveSilenceMs` (no event and no heartbeat): a silent link, not a refusal. Its
 * code says what may have happened, as every store's deadlines do: `STORAGE_UNAVAILABLE` when
 * nothing can have been written (a read, a lease read), `STORAGE_INDETERMINATE` when a write may
 * have been (an append, a lease change): send it again with the same ids and it is stored once.
 * A SyncUnavailableError, so offline mode treats it as being offline.
 *
 * @example
 * catch (err) { if (err instanceof SyncTimeoutError && err.code === 'STORAGE_INDETERMINATE') await resendSameIds() }
 */
export class SyncTimeoutError extends SyncUnavailableError {
  constructor(
    url: string,
    /** The request, e.g. `POST /streams/s-1/events`. */
    readonly request: string,
    readonly timeoutMs: number,
    code: 'STORAGE_UNAVAILABLE' | 'STORAGE_INDETERMINATE',
    option: 'callTimeoutMs' | 'liveSilenceMs' = 'callTimeoutMs',
  ) {
    const what = option === 'liveSilenceMs' ? `the live feed ${request} was silent for ${timeoutMs} ms (liveSilenceMs)` : `${request} had no answer within ${timeoutMs} ms (callTimeoutMs)`
    super(url, new Error(what))
    Object.defineProperty(this, 'code', { value: code })
    Object.defineProperty(this, 'message', {
      value: `the sync server at ${url}: ${what}${code === 'STORAGE_INDETERMINATE' ? '; it may have been stored: send it again with the same ids' : ''}`,
      writable: true,
      configurable: true,
    })
  }
}
