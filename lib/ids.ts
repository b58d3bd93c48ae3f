import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'

/** Makes the globally unique ids of new events. Injected so tests can make them predictable. */
export type IdGenerator = () => string

/** Random UUIDs (v4), from the platform's `crypto` (Node 20 and browsers alike). @example createContainer({ ids: randomIds }) */
export const randomIds: IdGenerator = () => randomUuid()

/**
 * Ids `prefix-1`, `prefix-2`, ... for tests that assert on ids.
 *
 * @example createContainer({ ids: sequentialIds('evt') })
 */
export function sequentialIds(prefix = 'id'): IdGenerator {
  let n = 0
  return () => `${prefix}-${++n}`
}

/**
 * A UUID-shaped id derived from `parts`: the first 128 bits of the SHA-256 of their JSON. The
 * same parts give the same id in every process and on every platform, so an event derived
 * twice (a reaction handled again after a crash) is stored once. Ids already stored were made
 * this way: changing it would make old reactions look new.
 *
 * @example derivedId(cause.id, 'Game', 'room-1', 'player_respawned')
 */
export function derivedId(...parts: readonly string[]): string {
  // Synchronous on purpose (crypto.subtle is async and would put a promise in Fire's path).
  const hex = bytesToHex(sha256(utf8ToBytes(JSON.stringify(parts))))
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

function randomUuid(): string {
  // randomUUID exists only in secure contexts (https, localhost); getRandomValues everywhere.
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40 // version 4
  b[8] = (b[8]! & 0x3f) | 0x80 // RFC 9562 variant
  const hex = bytesToHex(b)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

// Names this process in lease holder ids (OneActor.owner), for people reading the leases.
// Node's entry point sets host name and pid; elsewhere there is no portable equivalent.
const pid = (globalThis as { process?: { pid?: number } }).process?.pid
let label = pid === undefined ? 'js' : `pid ${pid}`

/** The label of this process in lease holder ids: `host:pid` in Node. */
export function instanceLabel(): string {
  return label
}

/** Sets the label; Node's entry point passes `${hostname()}:${process.pid}`. */
export function setInstanceLabel(value: string): void {
  label = value
}
