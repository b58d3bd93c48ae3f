const encoder = new TextEncoder()

/**
 * The shard of an actor id among `shards`: the 32-bit FNV-1a hash of the id's UTF-8 bytes,
 * modulo the count. The same in every process, platform and release: the shard decides which
 * lease fences an actor's appends, so changing the hash (or the count) moves actors between
 * leases and is done only with every process of the class stopped (docs/shards.md).
 *
 * @example shardOf('sku-1', 64) // an integer in 0..63, the same everywhere
 */
export function shardOf(id: string, shards: number): number {
  let hash = 0x811c9dc5
  for (const byte of encoder.encode(id)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % shards
}
