import type { EventEnvelope, StorageAdapter } from '../../node.js'

/** An event's place in its business transaction, read from the log alone. */
export interface CausationChain {
  /** The event asked about. */
  readonly event: EventEnvelope
  /** What caused it, from the first cause (the transaction's root) down to its direct cause. */
  readonly causes: readonly EventEnvelope[]
  /** What it caused, directly and through others, in log order, each with its distance from it (1: direct). */
  readonly effects: ReadonlyArray<{ readonly event: EventEnvelope; readonly depth: number }>
  /** A cause the log does not hold (a command's id, or an event of another store), if any. */
  readonly missingCause?: string
}

/**
 * The causation chain of event `id`: its causes and effects, found through `causationId`. Every
 * event a reaction stores carries the correlation id of its transaction (the root's id), so the
 * chain is among the events of that correlation: one read of the log to find the event, one to
 * gather its correlation. Resolves undefined when no event has that id.
 */
export async function causationChain(store: StorageAdapter, id: string): Promise<CausationChain | undefined> {
  let event: EventEnvelope | undefined
  for await (const e of store.readAll({ fromPosition: 1 })) {
    if (e.id === id) {
      event = e
      break
    }
  }
  if (!event) return undefined
  const correlation = event.meta.correlationId ?? event.id
  const byId = new Map<string, EventEnvelope>()
  for await (const e of store.readAll({ fromPosition: 1 })) {
    if (e.id === correlation || e.meta.correlationId === correlation) byId.set(e.id, e)
  }
  byId.set(event.id, event)

  const causes: EventEnvelope[] = []
  let missingCause: string | undefined
  const seen = new Set([event.id])
  for (let cause = event.meta.causationId; cause !== undefined && !seen.has(cause); ) {
    seen.add(cause)
    const found = byId.get(cause)
    if (!found) {
      missingCause = cause
      break
    }
    causes.unshift(found)
    cause = found.meta.causationId
  }

  const depth = new Map([[event.id, 0]])
  const effects: Array<{ event: EventEnvelope; depth: number }> = []
  // In log order a cause comes before what it caused, so one pass finds every generation.
  for (const e of [...byId.values()].sort((a, b) => a.position - b.position)) {
    const parent = e.meta.causationId === undefined ? undefined : depth.get(e.meta.causationId)
    if (parent === undefined || depth.has(e.id)) continue
    depth.set(e.id, parent + 1)
    effects.push({ event: e, depth: parent + 1 })
  }
  return { event, causes, effects, ...(missingCause !== undefined ? { missingCause } : {}) }
}
