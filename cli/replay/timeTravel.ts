import { createContainer, type Actor, type ActorClass, type EventEnvelope, type StorageAdapter } from 'omniscient-actors'
import { diff, type Change } from './diff.js'
import { ReadOnlyView } from './ReadOnlyView.js'

/** One applied event and what it did to the state. */
export interface Step {
  readonly event: EventEnvelope
  /** The state after the event (a JSON copy). */
  readonly state: unknown
  readonly changes: readonly Change[]
}

/** Where a replay stopped. */
export interface Replayed {
  /** The state at `version` (a JSON copy). */
  readonly state: unknown
  readonly version: number
  /** The stream's version in the store (the replay may have stopped before). */
  readonly head: number
  /** A handler that threw: the replay stopped at the event before. */
  readonly error?: { readonly version: number; readonly message: string }
}

/**
 * Replays an actor from its stream up to a version, outside any running service: the class
 * is constructed on a read-only view of the store (nothing is written, snapshots are ignored)
 * and `Load()`ed. `onStep` sees each event with the state it made and the changes.
 *
 * @example
 * const { state } = await replayActor(Cart, store, 'cart-42', { toVersion: 3 })
 */
export async function replayActor(
  Class: ActorClass,
  store: StorageAdapter,
  id: string,
  options: { readonly toVersion?: number; readonly onStep?: (step: Step) => Promise<void> | void } = {},
): Promise<Replayed> {
  // Set right below: the view needs the actor, and the actor the view's container.
  const holder: { actor?: Actor } = {}
  let before: unknown
  let version = 0
  const view = new ReadOnlyView(store, {
    streamId: id,
    ...(options.toVersion !== undefined ? { toVersion: options.toVersion } : {}),
    onApplied: async (event) => {
      const state = toJson(holder.actor!._state)
      version = event.version
      if (options.onStep) await options.onStep({ event, state, changes: diff(before, state) })
      before = state
    },
  })
  // Reports from the replayed actor (listeners, elections) are not the user's concern here.
  const container = createContainer({ store: view, report: () => undefined })
  const replayed = new Class(id, container)
  holder.actor = replayed
  before = toJson(replayed._state)
  const initial = before
  let error: Replayed['error']
  try {
    await replayed.Load()
  } catch (err) {
    const failed = (err as { version?: unknown }).version
    error = { version: typeof failed === 'number' ? failed : version + 1, message: err instanceof Error ? err.message : String(err) }
  } finally {
    await replayed.Stop().catch(() => undefined)
  }
  const head = await store.streamVersion(id)
  return { state: version === 0 ? initial : before, version, head, ...(error ? { error } : {}) }
}

/** A JSON copy of the state: what a person reads, and what diffs compare. Maps are shown as objects, Sets as arrays. */
export function toJson(value: unknown): unknown {
  const plain = (_key: string, v: unknown): unknown => (v instanceof Map ? (Object.fromEntries(v) as unknown) : v instanceof Set ? [...(v as Set<unknown>)] : v)
  const text = JSON.stringify(value, plain)
  return text === undefined ? undefined : (JSON.parse(text) as unknown)
}
