import type { Container } from '../Container.js'
import type { EventEnvelope, NewEvent } from '../envelope.js'
import { UnknownEventError } from '../errors.js'
import { findDefinition, upcastEventData, validateEventData, type AnyEventCatalog, type EventInput, type EventName } from '../events.js'
import { derivedId } from '../ids.js'
import { handlerLookup, reportMisspeltHandlers, type HandlerMethod } from '../handlers.js'
import type { Progress, ProgressListener } from './Progress.js'
import { HandlerFailure, Runner } from './Runner.js'
import { derivedTraceparent } from '../telemetry/spans.js'
import { PositionWatch, type WaitForOptions } from './PositionWatch.js'

/** An event a projection derives: the stream it goes to, its name and data (typed by `static derives`). */
export type Derived<D extends AnyEventCatalog = AnyEventCatalog> = {
  [K in EventName<D>]: { readonly streamId: string; readonly name: K; readonly data: EventInput<D, K> }
}[EventName<D>]

/** The statics a projection class declares; all optional but `events`. */
export interface ProjectionStatics {
  /** The events it reads. */
  readonly events?: AnyEventCatalog
  /** The events it derives: their data is validated and stamped with their schema version. */
  readonly derives?: AnyEventCatalog
  /** The name its checkpoint, lease and derived ids use; default the class name. Never change it. */
  readonly projectionName?: string
  /** Only this stream's events (default: every stream's). */
  readonly stream?: string
  /** Lease time of the one runner, in ms. Default 5000. */
  readonly leaseMs?: number
  /** Most source events handled per round of appends. Default 1024. */
  readonly batchSize?: number
}

// Members of Projection (and of every object) are never handlers, even when an event shares a name.
const handlers = handlerLookup<HandlerMethod<EventEnvelope>>(Object.getOwnPropertyNames(Object.prototype))

/**
 * Derives events from events: handler methods named after the events it reads return the
 * events to append (target stream, name, data), and touch nothing else. Each derived event
 * has the source as causation, keeps its correlation, and an id made of the projection's
 * name, the source's id and its index, so a replay, a retry or a second runner stores it once.
 * One process runs it at a time (a lease, fencing every append); a failing append is retried
 * with backoff, a throwing handler is reported with its event and retried (`progress().state`
 * is `'stuck'`), and nothing is ever skipped.
 *
 * @example
 * class Followers extends Projection<typeof UserEvents, typeof UserEvents> {
 *   static events = UserEvents
 *   static derives = UserEvents
 *   Followed(data: EventData<typeof UserEvents, 'Followed'>, event: EventEnvelope): Derived<typeof UserEvents>[] {
 *     return [{ streamId: data.user, name: 'WasFollowed', data: { by: event.streamId } }]
 *   }
 * }
 * await new Followers(container).start()
 */
export abstract class Projection<C extends AnyEventCatalog = AnyEventCatalog, D extends AnyEventCatalog = AnyEventCatalog> {
  readonly name: string
  private readonly statics: ProjectionStatics
  private readonly runner: Runner
  private checkpoint = 0
  // The waitFor calls of this process: one poll serves them all, woken on each commit here.
  private readonly watch: PositionWatch

  constructor(protected readonly container: Container) {
    this.statics = this.constructor as ProjectionStatics
    this.name = this.statics.projectionName ?? this.constructor.name
    reportMisspeltHandlers(this, this.name, this.catalog, handlers.isReserved, container, (err) => container.report(err, { where: `projection "${this.name}"` }))
    this.watch = new PositionWatch(container, this.name, async () => (this.runner.isRunning ? this.checkpoint : ((await container.store.loadCheckpoint(this.checkpointName)) ?? 0)))
    const leaseMs = this.statics.leaseMs ?? 5_000
    this.runner = new Runner(
      container,
      {
        name: `projection "${this.name}"`,
        telemetry: { kind: 'projection', name: this.name },
        ...(this.statics.stream !== undefined ? { streamId: this.statics.stream } : {}),
        lease: { name: this.checkpointName, leaseMs, renewEveryMs: Math.max(50, Math.floor(leaseMs / 4)) },
        begin: async () => (this.checkpoint = (await container.store.loadCheckpoint(this.checkpointName)) ?? 0),
        apply: (events, term) => this.applyBatch(events, term),
        runningState: (position, head) => (position < head ? 'catching-up' : 'live'),
      },
      this.statics.batchSize ?? 1_024,
    )
  }

  /** The catalogs of `static events` and `static derives`. */
  protected get catalog(): C {
    return (this.statics.events ?? {}) as C
  }

  protected get derives(): D | undefined {
    return this.statics.derives as D | undefined
  }

  /**
   * The store checkpoint it keeps: the position of the last source event whose derived events
   * are stored. Its runners' lease has the same name.
   */
  get checkpointName(): string {
    return `projection/${this.name}`
  }

  /** Takes part in running it; resolves at once. */
  async start(): Promise<this> {
    this.runner.start()
    return this
  }

  async stop(): Promise<void> {
    await this.runner.stop()
  }

  /** Where it is, and whether a handler is stuck (with the event and the error). */
  progress(): Progress {
    return this.runner.progress()
  }

  onProgress(listener: ProgressListener): () => void {
    return this.runner.onProgress(listener)
  }

  /**
   * Resolves once the events derived from `target` (an envelope or a position) are stored. With
   * `static stream`, an envelope of another stream derives nothing here: it resolves at once
   * (its position may never be reached, since the checkpoint moves only with that stream).
   */
  async waitFor(target: EventEnvelope | number, options: WaitForOptions = {}): Promise<void> {
    if (typeof target !== 'number' && this.statics.stream !== undefined && target.streamId !== this.statics.stream) return
    await this.watch.wait(typeof target === 'number' ? target : target.position, options)
  }

  private async applyBatch(events: readonly EventEnvelope[], term: number): Promise<'committed'> {
    const derived: Array<{ streamId: string; events: NewEvent[] }> = []
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      try {
        derived.push(...(await this.derive(event, term)))
      } catch (err) {
        // The events before this one are stored first; the runner retries from this one.
        if (i > 0) await this.store(derived, events[i - 1]!.position, term)
        throw new HandlerFailure(event, err, i, i > 0 ? events[i - 1]!.position : undefined)
      }
    }
    await this.store(derived, events.at(-1)!.position, term)
    return 'committed'
  }

  /** The derived events of one source event, one batch per target stream. */
  private async derive(event: EventEnvelope, term: number): Promise<Array<{ streamId: string; events: NewEvent[] }>> {
    const handler = handlers.of(this, event.name)
    const definition = handler && findDefinition(this.catalog, event.name)
    if (!handler || !definition) return []
    const out = (await handler.call(this, upcastEventData(definition, event.data, event.schemaVersion), event)) as readonly Derived<D>[] | undefined
    const byStream = new Map<string, NewEvent[]>()
    const at = this.container.clock.now()
    ;(out ?? []).forEach((d, index) => {
      let schemaVersion = 1
      let data: unknown = d.data
      if (this.derives) {
        const target = findDefinition(this.derives, d.name)
        if (!target) throw new UnknownEventError(d.name, this.name, Object.keys(this.derives))
        data = validateEventData(target, d.data)
        schemaVersion = target.version
      }
      let list = byStream.get(d.streamId)
      if (!list) byStream.set(d.streamId, (list = []))
      list.push({
        id: derivedId(this.name, event.id, String(index)),
        name: d.name,
        data: data === undefined ? undefined : JSON.parse(JSON.stringify(data)),
        schemaVersion,
        at,
        meta: { causationId: event.id, correlationId: event.meta.correlationId ?? event.id, actorType: this.name, ...(term > 0 ? { term } : {}), ...derivedTraceparent(event) },
      })
    })
    return [...byStream].map(([streamId, list]) => ({ streamId, events: list }))
  }

  /**
   * Appends every batch (in order per target stream; streams in parallel, so a store's group
   * commit takes them together), fenced by the lease, then moves the checkpoint.
   */
  private async store(derived: ReadonlyArray<{ streamId: string; events: NewEvent[] }>, upTo: number, term: number): Promise<void> {
    const { store } = this.container
    const lease = term > 0 ? { lease: { name: this.checkpointName, term } } : {}
    const chains = new Map<string, Promise<unknown>>()
    for (const batch of derived) {
      const previous = chains.get(batch.streamId) ?? Promise.resolve()
      const next = previous.then(() => store.append(batch.streamId, batch.events, { expectedVersion: 'any', ...lease }))
      next.catch(() => undefined)
      chains.set(batch.streamId, next)
    }
    await Promise.all(chains.values())
    await store.saveCheckpoint(this.checkpointName, upTo)
    this.checkpoint = upTo
    this.watch.changed()
  }
}

handlers.reserve(Projection.prototype)
