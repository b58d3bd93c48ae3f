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
