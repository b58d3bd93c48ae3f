import { systemClock, type Clock } from './Clock.js'
import type { EventEnvelope } from './envelope.js'
import { EventBus } from './EventBus.js'
import { randomIds, type IdGenerator } from './ids.js'
import { MemoryStore } from './store/MemoryStore.js'
import type { StorageAdapter } from './store/StorageAdapter.js'

/** What the framework reports instead of throwing: a failing bus listener, a corrupt snapshot. */
export type ErrorReporter = (err: unknown, context: { event?: EventEnvelope; where: string }) => void

/**
 * Everything an actor needs from its surroundings, injected once: the store, the bus, the
 * clock, the id generator and the error reporter.
 */
export interface Container {
  readonly store: StorageAdapter
  readonly bus: EventBus
  readonly clock: Clock
  readonly ids: IdGenerator
  readonly report: ErrorReporter
}

/** Options of `createContainer`; every one has a default. */
export interface ContainerOptions {
  /** Default: a new `MemoryStore` (nothing survives the process). */
  readonly store?: StorageAdapter
  readonly clock?: Clock
  readonly ids?: IdGenerator
  /** Default: `console.error`, with where the error happened. */
  readonly report?: ErrorReporter
}

const consoleReporter: ErrorReporter = (err, context) => {
  console.error(`[omniscient-actors] ${context.where}${context.event ? ` (event ${context.event.name} on ${context.event.streamId} v${context.event.version})` : ''}:`, err)
}

/**
 * Builds the container actors are constructed with.
 *
 * @example
 * const container = createContainer({ store: new SqliteStore({ file: './.data/app.db' }) })
 * const user = new User('alice', container)
 */
export function createContainer(options: ContainerOptions = {}): Container {
  const report = options.report ?? consoleReporter
  return {
    store: options.store ?? new MemoryStore(),
    bus: new EventBus((err, event) => report(err, { event, where: 'bus listener' })),
    clock: options.clock ?? systemClock,
    ids: options.ids ?? randomIds,
    report,
  }
}
