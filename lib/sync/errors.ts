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
    super('UNREACHABLE', `the sync server at ${url} could not be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
  }
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
