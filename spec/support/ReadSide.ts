import type { EventEnvelope } from 'omniscient-actors'
import { FollowGraph, type Follows } from '../../examples/follow/FollowGraph.js'
import { FollowProjection } from '../../examples/follow/FollowProjection.js'

// The follow example with short leases, for the multi-process specs: a killed runner's lease
// expires quickly, so the other process takes over within the spec's time.

export class FaultFollowProjection extends FollowProjection {
  static projectionName = 'follow'
  static leaseMs = 400
}

export class FaultFollowGraph extends FollowGraph {
  static modelName = 'follow-graph'
  static leaseMs = 400
}

/** The FollowGraph computed from scratch, in one pass over the whole log. */
export function foldFollowGraph(events: readonly EventEnvelope[]): Map<string, Follows> {
  const docs = new Map<string, Follows>()
  const doc = (key: string) => docs.get(key) ?? { followers: [], following: [] }
  for (const e of events) {
    if (e.name === 'Followed') docs.set(e.streamId, { ...doc(e.streamId), following: [...doc(e.streamId).following, (e.data as { user: string }).user] })
    if (e.name === 'WasFollowed') docs.set(e.streamId, { ...doc(e.streamId), followers: [...doc(e.streamId).followers, (e.data as { by: string }).by] })
  }
  return docs
}

/**
 * Waits until `position()` reaches `target`, failing only when it has not moved for `stallMs`:
 * a guard against a hang, not a deadline, since a loaded server may take minutes while it moves.
 */
export async function waitWhileMoving(position: () => Promise<number>, target: number, stallMs: number, what: string): Promise<void> {
  let last = -1
  let movedAt = Date.now()
  for (;;) {
    const at = await position()
    if (at >= target) return
    if (at !== last) {
      last = at
      movedAt = Date.now()
    } else if (Date.now() - movedAt > stallMs) {
      throw new Error(`${what} stayed at position ${at} for ${stallMs} ms, short of ${target}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}
