/**
 * Which member owns which shard, as every member computes it from the same view of the live
 * members: the same members give the same answer in every process, with no coordinator.
 *
 * Balanced to within one shard: sorted by id, the first `shards % members` members take
 * `ceil(shards / members)` shards and the others `floor`. Each shard goes to the member that
 * ranks it highest (rendezvous hashing of shard and member) among those with room left, so a
 * member joining or leaving moves few shards besides its own share, rather than reshuffling
 * them all as `shard % members` would.
 *
 * @example placeShards(['a', 'b', 'c'], 64) // [owner of shard 0, owner of shard 1, ...]
 */
export function placeShards(members: readonly string[], shards: number): string[] {
  const sorted = [...new Set(members)].sort()
  if (sorted.length === 0) return []
  const base = Math.floor(shards / sorted.length)
  const extra = shards % sorted.length
  const room = new Map(sorted.map((m, i) => [m, base + (i < extra ? 1 : 0)]))
  const owners: string[] = []
  for (let shard = 0; shard < shards; shard++) {
    let best: string | undefined
    let bestScore = -1
    for (const member of sorted) {
      if (room.get(member)! === 0) continue
      const score = rank(shard, member)
      if (score > bestScore) {
        best = member
        bestScore = score
      }
    }
    owners.push(best!)
    room.set(best!, room.get(best!)! - 1)
  }
  return owners
}

const encoder = new TextEncoder()

/** A 32-bit FNV-1a hash of the shard and the member: the member's preference for the shard. */
function rank(shard: number, member: string): number {
  let hash = 0x811c9dc5
  for (const byte of encoder.encode(`${shard}\u0000${member}`)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  // FNV's low bits mix poorly for inputs that differ in one byte: one more avalanche round.
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x45d9f3b) >>> 0
  return (hash ^ (hash >>> 16)) >>> 0
}
