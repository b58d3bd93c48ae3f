import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { MAX_ID_BYTES, utf8Length } from '../lib/store/kit/arguments.js'
import type { StorageAdapter } from '../lib/store/StorageAdapter.js'

/**
 * The name under which the framework keeps something of its own for an actor (a lease, a
 * proposal stream, a checkpoint): `${kind}/${actorType}/${id}${suffix}` while that fits the
 * store's limit, so it stays readable in the CLI and the inspector. A longer one would be
 * refused by the store although the actor's own id fits, so it becomes `${kind}/#` and the
 * base64url SHA-256 of the readable name: the same in every process, at most kind + 45 bytes.
 * Names that fit are never changed, so upgrading keeps every stored lease and checkpoint.
 *
 * @example derivedName(store, 'one', 'Stock', 'sku-1') // 'one/Stock/sku-1'
 */
export function derivedName(store: StorageAdapter, kind: string, actorType: string, id: string, suffix = ''): string {
  const readable = `${kind}/${actorType}/${id}${suffix}`
  const maxBytes = store.maxIdBytes ?? MAX_ID_BYTES
  if (readable.length * 3 <= maxBytes || utf8Length(readable) <= maxBytes) return readable
  return `${kind}/#${base64url(sha256(utf8ToBytes(readable)))}`
}

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
