import { ActorRegistry, type ActorRegistryOptions } from './ActorRegistry.js'
import { checkOptions } from './checkOptions.js'
import { systemClock, type Clock } from './Clock.js'
import type { EventEnvelope } from './envelope.js'
import { isOmniscientError } from './errors.js'
import { EventBus } from './EventBus.js'
import { randomIds, type IdGenerator } from './ids.js'
import { MemoryStore } from './store/memory/MemoryStore.js'
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
  /** One loaded, live instance per actor class and id, with passivation of idle ones. */
  readonly actors: ActorRegistry<Container>
  /**
   * Stops every registered actor, then runs the close hooks (read models and projections
   * stop there: leases released, subscriptions ended, pending `waitFor` rejected with
   * `ContainerClosedError`), then closes the store.
   */
  close(): Promise<void>
  /**
   * Runs `hook` when the container closes, after the actors stopped and before the store
   * closes; returns the function that removes it. Registered once the container is closing
   * or closed, it runs at once. A hook that fails is reported; the others still run.
   *
   * @example
   * const unregister = container.onClose(() => runner.stop())
   */
  onClose(hook: () => Promise<void> | void): () => void
}

/** Options of `createContainer`; every one has a default. */
export interface ContainerOptions {
  /** Default: a new `MemoryStore` (nothing survives the process). */
  readonly store?: StorageAdapter
  readonly clock?: Clock
  readonly ids?: IdGenerator
  /** Default: `console.error`, with where the error happened. */
  readonly report?: ErrorReporter
  /** Passivation of the actor registry. */
  readonly actors?: ActorRegistryOptions
}

// Every option, once: a new option left out of this object fails to compile.
const CONTAINER_OPTIONS = Object.keys({ store: true, clock: true, ids: true, report: true, actors: true } satisfies Record<keyof ContainerOptions, true>)

// A server that cannot be reached for a while (a routine restart) is one line when the outage
// starts and one when it ends, not a network library's stack traces; the error passed to a
// reporter of one's own keeps them as `cause`.
const ONE_LINE = new Set(['UNREACHABLE', 'NOT_SYNC_PROTOCOL', 'NEVER_REACHED', 'STORAGE_UNAVAILABLE', 'OUTAGE'])

const consoleReporter: ErrorReporter = (err, context) => {
  const where = `[omniscient-actors] ${context.where}${context.event ? ` (event ${context.event.name} on ${context.event.streamId} v${context.event.version})` : ''}:`
  if (isOmniscientError(err) && ONE_LINE.has(err.code)) console.error(`${where} ${err.name} (${err.code}): ${err.message}`)
  else console.error(where, err)
}

/**
 * Builds the container actors are constructed with. An option it does not know (a misspelt
 * `store`...) throws `InvalidOptionsError` naming the options it takes.
 *
 * @example
 * const container = createContainer({ store: new SqliteStore({ file: './.data/app.db' }) })
 * const user = new User('alice', container)
 */
export function createContainer(options: ContainerOptions = {}): Container {
  // A misspelt `store` would otherwise run on a MemoryStore, and nothing would persist.
  checkOptions('createContainer', options, CONTAINER_OPTIONS)
  const report = options.report ?? consoleReporter
  const clock = options.clock ?? systemClock
  const store = options.store ?? new MemoryStore()
  const hooks = new Set<() => Promise<void> | void>()
  let closing = false
  const runHook = async (hook: () => Promise<void> | void) => {
    try {
      await hook()
    } catch (err) {
      report(err, { where: 'close of the container' })
    }
  }
  const container: Container = {
    store,
    bus: new EventBus((err, event) => report(err, { event, where: 'bus listener' })),
    clock,
    ids: options.ids ?? randomIds,
    report,
    actors: new ActorRegistry<Container>(() => container, clock, options.actors),
    async close() {
      closing = true
      await container.actors.stopAll()
      // Read models and projections stop while the store still answers: they release their leases.
      const running = [...hooks]
      hooks.clear()
      await Promise.all(running.map(runHook))
      await store.close()
    },
    onClose(hook) {
      if (closing) {
        void runHook(hook)
        return () => {}
      }
      hooks.add(hook)
      return () => void hooks.delete(hook)
    },
  }
  return container
}
