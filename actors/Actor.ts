import {
  HandlerError,
  PreconditionFailedError,
  SnapshotCorruptError,
  SnapshotInvalidError,
  UnknownEventError,
  type AnyEventCatalog,
  type AppendOptions,
  type AppliedEvent,
  type Container,
  type EventData,
  type EventEnvelope,
  type EventInput,
  type EventName,
  type ListenHandler,
  type ListenOptions,
  type ListenTarget,
  type Listener,
  type NewEvent,
  type StuckStatus,
} from '../lib/index.js'
import { Mailbox } from '../lib/Mailbox.js'
import { findDefinition, upcastEventData, validateEventData } from '../lib/events.js'
import { startListener } from '../lib/listeners/Listener.js'
import { handlerLookup, reportMisspeltHandlers } from '../lib/handlers.js'
import { derivedId } from '../lib/ids.js'
import { Outage } from '../lib/listeners/Outage.js'
import { rejected } from '../lib/rejected.js'
import { storedData } from '../lib/safeData.js'
import { traceAppend, traceFire, traceLoad } from '../lib/telemetry/spans.js'

/** The statics an actor class may declare; all optional but `events`. */
export interface ActorStatics {
  /** The events this class fires and understands, from `defineEvents`. */
  readonly events?: AnyEventCatalog
  /** Take a snapshot every this many events (0 or absent: never). */
  readonly snapshotEvery?: number
  /** Bump when handlers change meaning: older snapshots are then ignored and the stream replayed. */
  readonly snapshotVersion?: number
  /** The name stored in snapshots and event meta; defaults to the class name. */
  readonly actorType?: string
}

/** The constructor of an actor class, as Given/When and registries take it. */
export type ActorClass<A extends Actor = Actor> = (new (id: string, container: Container) => A) & ActorStatics

/** Options of one `Fire`. */
export interface FireOptions<S> {
  /**
   * Checked on the state right before the event is applied; when it returns false the event
   * is dropped and `Fire` rejects with `PreconditionFailedError`. A LiveActor checks it again
   * each time it re-applies the event on top of other writers' events.
   */
  readonly precondition?: (state: Readonly<S>) => boolean
  /**
   * The event this one reacts to (in a listener). Its id becomes the causation id, its
   * correlation id is carried on, and the new event's id is derived from it, so handling the
   * same event twice (after a crash) stores the reaction once.
   */
  readonly causedBy?: EventEnvelope
  /** An explicit id (an idempotency key); default: derived from `causedBy`, else random. */
  readonly id?: string
}

/** `Fire`'s arguments after the name: data (optional when the schema accepts `undefined`), then options. */
export type FireArgs<C extends AnyEventCatalog, K extends EventName<C>, S = unknown> =
  undefined extends EventInput<C, K>
    ? [data?: EventInput<C, K>, options?: FireOptions<S>]
    : [data: EventInput<C, K>, options?: FireOptions<S>]

// The framework's own member names (Load, Fire, commit...) are never event handlers, whatever
// the events are called. Each actor kind adds its prototype's names.
const handlers = handlerLookup<(data: unknown, event: AppliedEvent) => void>()

/** Marks the members of a framework base class as never being event handlers. */
export function reserveFrameworkMembers(prototype: object): void {
  handlers.reserve(prototype)
}

/**
 * An event-sourced actor: its state is what its handlers make of its stream's events.
 * Serial and optimistic; a `Fire` that loses a race rejects with `ConcurrencyError` and the
 * actor reloads, so it always ends equal to the store.
 *
 * @example
 * const CounterEvents = defineEvents({ added: z.object({ by: z.number() }) })
 * class Counter extends Actor<typeof CounterEvents, { total: number }> {
 *   static events = CounterEvents
 *   constructor(id: string, c: Container) { super(id, c); this._state.total = 0 }
 *   Add(by: number) { return this.Fire('added', { by }) }
 *   added(data: { by: number }) { this._state.total += data.by }
 * }
 * const counter = await new Counter('c1', container).Load()
 * await counter.Add(2)
 */
export abstract class Actor<C extends AnyEventCatalog = AnyEventCatalog, S extends object = Record<string, unknown>> {
  /** The stream this actor reads and writes. */
  readonly id: string
  /** The actor's state, changed only by its handlers. An empty object until the class sets it. */
  _state: S
  protected readonly container: Container
  protected readonly mailbox = new Mailbox()
  protected currentVersion = 0
  /** The position of the last event applied from the store (0 when not known). */
  protected lastPosition = 0
  private initialState: S | undefined
  private snapshotAt = 0
  // Set when a rebuild after a failed Fire failed too: the next command rebuilds first.
  protected stale = false
  private loaded = false
  private readonly listeners: Array<{ start: () => Listener; running?: Listener }> = []
  // Reloads after failed Fires that fail too (the store is away): reported once per outage.
  private readonly reloads: Outage

  constructor(id: string, container: Container) {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('an actor id must be a non-empty string')
    this.id = id
    this.container = container
    this._state = {} as S
    if (!this.statics.events) throw new TypeError(`${this.actorType} declares no static events (static events = defineEvents({...}))`)
    reportMisspeltHandlers(this, this.actorType, this.catalog, handlers.isReserved, container, (err) => container.report(err, { where: `class ${this.actorType}` }))
    const where = `reload of ${this.actorType} "${id}" after a failed Fire`
    this.reloads = new Outage(where, (err) => container.report(err, { where }))
  }

  /**
   * Set while something this actor retries on its own keeps failing: a reload after a failed
   * Fire, one of its listeners (a throwing handler, a damaged event row, a lost store) or, for
   * a LiveActor, its live following. Undefined when all is well. The first failure of such a
   * run is reported through the container at once, and its end with the count of failures.
   *
   * @example
   * if (actor.Stuck) console.warn(actor.Stuck.where, actor.Stuck.failures, actor.Stuck.error)
   */
  get Stuck(): StuckStatus | undefined {
    if (this.reloads.status) return this.reloads.status
    for (const l of this.listeners) if (l.running?.stuck) return l.running.stuck
    return undefined
  }

  /** The version of the last event applied: the stream's version as this actor knows it. */
  get version(): number {
    return this.currentVersion
  }

  /** The class name stored in snapshots and event meta. */
  get actorType(): string {
    return this.statics.actorType ?? this.constructor.name
  }

  /**
   * Rebuilds the state: the newest snapshot whose stamp matches this class, then the rest of
   * the stream, page by page. Resolves with the actor itself.
   */
  Load(): Promise<this> {
    return this.mailbox.post(async () => {
      await this.rebuild()
      this.startListeners()
      return this
    })
  }

  /**
   * Stops the actor's listeners (and, for a LiveActor, its live following). The state stays;
   * `Load()` starts them again.
   */
  async Stop(): Promise<void> {
    await Promise.all(
      this.listeners.map(async (l) => {
        const running = l.running
        delete l.running
        await running?.close()
      }),
    )
  }

  /**
   * Reacts to another actor's stream (`ListenTo(otherId, ...)`), to event names on every
   * stream (`ListenTo({ names: [...] }, ...)`), or both. Starts once the actor is loaded (so
   * it may be called in the constructor), and hands events over one at a time; a handler that
   * throws is reported and retried until it succeeds. With `{ durable: 'name' }` the position
   * is checkpointed and a restart resumes after it.
   *
   * @example
   * constructor(room: string, c: Container, players: string[]) {
   *   super(room, c)
   *   for (const p of players) this.ListenTo(p, (e) => {
   *     if (e.name === 'player_died') return this.Fire('player_respawned', { playerId: p }, { causedBy: e })
   *   }, { durable: `game:${room}:${p}` })
   * }
   */
  protected ListenTo(target: ListenTarget, handler: ListenHandler, options: ListenOptions = {}): void {
    const entry: { start: () => Listener; running?: Listener } = {
      start: () =>
        startListener(this.container.store, target, options, handler, (err, event) =>
          this.container.report(err, { ...(event ? { event } : {}), where: `listener of ${this.actorType} "${this.id}"` }),
        ),
    }
    this.listeners.push(entry)
    if (this.loaded) entry.running = entry.start()
  }

  protected startListeners(): void {
    this.loaded = true
    for (const l of this.listeners) l.running ??= l.start()
  }

  /**
   * Validates, applies and durably appends an event; resolves with the stored envelope.
   * Invalid data throws `EventValidationError` and nothing is applied or stored.
   */
  Fire<K extends EventName<C>>(name: K, ...args: FireArgs<C, K, S>): Promise<EventEnvelope<K, EventData<C, K>>> {
    // Not `async` (one promise fewer on the hot path), but bad input still rejects, never throws.
    try {
      // Validation happens here, before the mailbox: bad input never waits behind other work.
      const options = args[1] ?? {}
      const event = this.prepare(name, args[0], options)
      // Undefined unless an OpenTelemetry SDK is registered (docs/telemetry.md).
      const traced = traceFire(this.actorType, this.id, event, options.causedBy)
      if (traced) return traced.run((e) => this.runFire(e, options)) as Promise<EventEnvelope<K, EventData<C, K>>>
      return this.runFire(event, options) as Promise<EventEnvelope<K, EventData<C, K>>>
    } catch (err) {
      return rejected(err)
    }
  }

  /** Runs a prepared Fire: through the mailbox; resolves once the event is stored. */
  protected runFire(event: NewEvent, options: FireOptions<S>): Promise<EventEnvelope> {
    return this.mailbox.post(() => this.commit(event, options))
  }

  /** Resolves when every Fire and Load posted so far has finished. */
  async Idle(): Promise<void> {
    await this.mailbox.idle()
  }

  /** Builds the event to store: validated data (as JSON will give it back), id, time, meta. */
  protected prepare(name: string, data: unknown, options: FireOptions<S> = {}): NewEvent {
    const definition = findDefinition(this.catalog, name)
    if (!definition) throw new UnknownEventError(name, this.actorType, Object.keys(this.catalog))
    const valid = validateEventData(definition, data)
    const cause = options.causedBy
    return {
      // The same cause, actor and event name give the same id: the store keeps the event once.
      id: options.id ?? (cause ? derivedId(cause.id, this.actorType, this.id, name) : this.container.ids()),
      name,
      // The round trip makes the state built now equal to the state a replay builds.
      data: storedData(name, valid),
      schemaVersion: definition.version,
      at: this.container.clock.now(),
      meta: cause
        ? { actorType: this.actorType, causationId: cause.id, correlationId: cause.meta.correlationId ?? cause.id }
        : { actorType: this.actorType },
    }
  }

  /**
   * Applies the event, then appends it expecting the version before it. On any failure the
   * actor is rebuilt from the store, so it never keeps state the store does not have.
   */
  protected async commit(event: NewEvent, options: FireOptions<S>): Promise<EventEnvelope> {
    if (this.stale) await this.rebuild()
    const expectedVersion = this.currentVersion
    this.checkPrecondition(event, options)
    try {
      this.apply(this.applied(event, expectedVersion + 1))
      return await this.appendApplied(event, expectedVersion)
    } catch (err) {
      await this.rebuildAfterFailure()
      throw err
    }
  }

  /** Throws PreconditionFailedError when the Fire's precondition does not hold now. */
  protected checkPrecondition(event: NewEvent, options: FireOptions<S>): void {
    if (options.precondition && !options.precondition(this._state)) {
      throw new PreconditionFailedError(this.id, event.name, this.currentVersion)
    }
  }

  /** Appends an event already applied to the state, then publishes it and snapshots if due. */
  protected async appendApplied(event: NewEvent, expectedVersion: number): Promise<EventEnvelope> {
    const options = this.appendOptions(expectedVersion, event)
    const result = await traceAppend(this.container.store, this.id, event, options, this.container.store.append(this.id, [event], options), this.actorType)
    const stored = result.events[0]!
    // Already stored (a reaction handled twice): the stream has it once, and so must the state.
    if (result.alreadyStored) await this.rebuild()
    this.lastPosition = Math.max(this.lastPosition, stored.position)
    if (!result.alreadyStored) for (const e of result.events) this.container.bus.publish(e)
    if (this.snapshotDue()) await this.takeSnapshot()
    return stored
  }

  /** The options of this actor's appends; a OneActor adds its leader term (fencing). */
  protected appendOptions(expectedVersion: number, _event: NewEvent): AppendOptions {
    return { expectedVersion }
  }

  protected async rebuildAfterFailure(): Promise<void> {
    try {
      await this.rebuild()
    } catch (err) {
      this.stale = true
      this.reloads.fail(err)
    }
  }

  /** The event as this actor applies it before the store places it (no position yet). */
  protected applied(event: NewEvent, version: number): AppliedEvent {
    // Field by field rather than a spread: same shape as the store's envelopes, and cheaper.
    return {
      id: event.id,
      streamId: this.id,
      version,
      name: event.name,
      data: event.data,
      schemaVersion: event.schemaVersion,
      at: event.at,
      meta: event.meta,
    }
  }

  /** Hands one event to the handler named after it, lifting older schema versions first. */
  protected apply(event: AppliedEvent): void {
    const handler = handlers.of(this, event.name)
    if (handler) {
      try {
        const definition = findDefinition(this.catalog, event.name)
        const data = definition ? upcastEventData(definition, event.data, event.schemaVersion) : event.data
        handler.call(this, data, event)
      } catch (err) {
        throw new HandlerError(this.actorType, this.id, event.name, event.version, err)
      }
    }
    this.currentVersion = event.version
    if (event.position !== undefined) this.lastPosition = event.position
  }

  /** Resets to the initial state and replays from the newest valid snapshot. */
  protected async rebuild(): Promise<void> {
    await traceLoad(this.actorType, this.id, () => this.replayAll())
  }

  /** rebuild's work: how many events it replayed, from which snapshot version (0: none). */
  private async replayAll(): Promise<{ replayed: number; fromSnapshot: number }> {
    this.stale = true
    this.reset()
    let fromSnapshot = await this.restoreSnapshot()
    let replayed = await this.replayFrom(this.currentVersion + 1)
    if (fromSnapshot > 0 && replayed === 0) {
      // Nothing after the snapshot: it may claim a version the stream never reached, and every
      // Fire would then expect that version and fail. Only this case needs the extra query.
      const streamVersion = await this.container.store.streamVersion(this.id)
      if (streamVersion < fromSnapshot) {
        this.reportSnapshot(new SnapshotInvalidError(this.actorType, this.id, fromSnapshot, streamVersion))
        this.reset()
        fromSnapshot = 0
        replayed = await this.replayFrom(1)
      }
    }
    this.snapshotAt = fromSnapshot
    this.stale = false
    this.reloads.end()
    if (this.snapshotDue()) await this.takeSnapshot()
    return { replayed, fromSnapshot }
  }

  private reset(): void {
    this.initialState ??= structuredClone(this._state)
    this._state = structuredClone(this.initialState)
    this.currentVersion = 0
    this.lastPosition = 0
  }

  /** Applies the stream's events from `fromVersion` on; resolves with how many there were. */
  private async replayFrom(fromVersion: number): Promise<number> {
    let count = 0
    for await (const event of this.container.store.readStream(this.id, { fromVersion })) {
      this.apply(event)
      count++
    }
    return count
  }

  /** Restores the newest snapshot that matches this class; resolves with its version (0: none). */
  private async restoreSnapshot(): Promise<number> {
    if (!this.snapshotEvery) return 0
    try {
      const snapshot = await this.container.store.loadSnapshot(this.actorType, this.id)
      if (!snapshot || snapshot.snapshotVersion !== this.snapshotVersion || !isPlainObject(snapshot.state)) return 0
      const version: unknown = snapshot.version
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
        this.reportSnapshot(new SnapshotInvalidError(this.actorType, this.id, version, await this.container.store.streamVersion(this.id)))
        return 0
      }
      this._state = snapshot.state as S
      this.currentVersion = version
      return version
    } catch (err) {
      if (!(err instanceof SnapshotCorruptError)) throw err
      this.reportSnapshot(err)
      return 0
    }
  }

  private reportSnapshot(err: unknown): void {
    this.container.report(err, { where: `Load of ${this.actorType} "${this.id}"` })
  }

  /** Takes a snapshot when one is due (the state must be the store's, without predictions). */
  protected async snapshotIfDue(): Promise<void> {
    if (this.snapshotDue()) await this.takeSnapshot()
  }

  private snapshotDue(): boolean {
    const every = this.snapshotEvery
    return every > 0 && this.currentVersion - this.snapshotAt >= every
  }

  private async takeSnapshot(): Promise<void> {
    this.snapshotAt = this.currentVersion
    try {
      await this.container.store.saveSnapshot({
        actorType: this.actorType,
        streamId: this.id,
        snapshotVersion: this.snapshotVersion,
        version: this.currentVersion,
        state: this._state,
        at: this.container.clock.now(),
      })
    } catch (err) {
      // The events are stored; a missing snapshot only costs a longer replay.
      this.container.report(err, { where: `snapshot of ${this.actorType} "${this.id}"` })
    }
  }

  private get statics(): ActorStatics {
    return this.constructor as ActorStatics
  }

  protected get catalog(): AnyEventCatalog {
    return this.statics.events ?? {}
  }

  private get snapshotEvery(): number {
    return this.statics.snapshotEvery ?? 0
  }

  private get snapshotVersion(): number {
    return this.statics.snapshotVersion ?? 1
  }
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

reserveFrameworkMembers(Actor.prototype)
