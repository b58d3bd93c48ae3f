import { createContainer, type Actor, type ActorClass, type EventEnvelope, type StorageAdapter } from '../../node.js'
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

/** Options of `replayActor`. */
export interface ReplayOptions {
  /** The last version to apply (default: the stream's latest). */
  readonly toVersion?: number
  /** Called with each event of `stepsFrom` on, the state it made and the changes. */
  readonly onStep?: (step: Step) => Promise<void> | void
  /** The first version `onStep` sees (default 1): states are copied only from there on. */
  readonly stepsFrom?: number
  /** Called with the version of every event applied (progress of a long replay). */
  readonly onProgress?: (version: number) => void
}

/**
 * Replays an actor from its stream up to a version, outside any running service: the class
 * is constructed on a read-only view of the store (nothing is written, snapshots are ignored)
 * and `Load()`ed. `onStep` sees each event with the state it made and the changes.
 *
 * @example
 * const { state } = await replayActor(Cart, store, 'cart-42', { toVersion: 3 })
 */
export async function replayActor(Class: ActorClass, store: StorageAdapter, id: string, options: ReplayOptions = {}): Promise<Replayed> {
  // Set right below: the view needs the actor, and the actor the view's container.
  const holder: { actor?: Actor } = {}
  const stepsFrom = options.stepsFrom ?? 1
  let before: unknown
  let version = 0
  const view = new ReadOnlyView(store, {
    streamId: id,
    ...(options.toVersion !== undefined ? { toVersion: options.toVersion } : {}),
    onApplied: async (event) => {
      version = event.version
      options.onProgress?.(version)
      if (!options.onStep || version < stepsFrom - 1) return
      // A JSON copy per step costs as much as the state is big: only where steps are wanted.
      const state = toJson(holder.actor!._state)
      if (version >= stepsFrom) await options.onStep({ event, state, changes: diff(before, state) })
      before = state
    },
  })
  // Reports from the replayed actor (listeners, elections) are not the user's concern here.
  const container = createContainer({ store: view, report: () => undefined })
  const replayed = new Class(id, container)
  holder.actor = replayed
  const initial = toJson(replayed._state)
  before = initial
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
  let state: unknown
  if (!error) state = toJson(replayed._state)
  else if (version === 0) state = initial
  // The failing handler may have changed part of the state: show the state before it, copied
  // as a step, or else from a second replay that stops there.
  else if (options.onStep && version >= stepsFrom - 1) state = before
  else state = (await replayActor(Class, store, id, { toVersion: version })).state
  return { state, version, head, ...(error ? { error } : {}) }
}

/** A JSON copy of the state: what a person reads, and what diffs compare. Maps are shown as objects, Sets as arrays. */
export function toJson(value: unknown): unknown {
  const plain = (_key: string, v: unknown): unknown => (v instanceof Map ? (Object.fromEntries(v) as unknown) : v instanceof Set ? [...(v as Set<unknown>)] : v)
  const text = JSON.stringify(value, plain)
  return text === undefined ? undefined : (JSON.parse(text) as unknown)
}
