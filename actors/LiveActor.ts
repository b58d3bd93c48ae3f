import {
  isConcurrencyError,
  type AnyEventCatalog,
  type EventEnvelope,
  type NewEvent,
  type StuckStatus,
  type Subscription,
} from '../lib/index.js'
import { Outage } from '../lib/listeners/Outage.js'
import { queuesAppends } from '../lib/store/kit/AppendQueue.js'
import { derivedName } from './derivedNames.js'
import { Actor, reserveFrameworkMembers, type FireOptions } from './Actor.js'
import { Predictions } from './Predictions.js'

/** How many times a Fire is re-applied on top of competing events before it gives up. */
const MAX_REBASES = 1_000
/** After a conflict, how many Fires keep a copy of the state to roll back to cheaply. */
const INSURED_FIRES_AFTER_CONFLICT = 64
/** After this many lost races a Fire takes the priority lease: the others wait for it. */
const LOSSES_BEFORE_PRIORITY = 3
/** How long the priority lease lasts, and the longest a new Fire waits for its holder, in ms. */
const PRIORITY_MS = 1_000
/** For how long after another writer's event this instance counts as contended, in ms. */
const CONTENDED_FOR_MS = 1_000
/** A writer that sees no contention still looks at the priority lease this often, in ms. */
const PRIORITY_CHECK_MS = 10
/** How long (at most) the live following waits between its own reads while reads fail, in ms. */
const MAX_PROBE_MS = 2_000

/**
 * An actor that follows its stream live: every instance of the same id, in any process that
 * shares the store, applies every event in version order as it is committed. `Fire` is
 * optimistic: the event is applied at once; if another writer got there first, the instance
 * applies the competing events, applies its own again on top of them (after re-checking the
 * Fire's precondition, if any) and appends it at the next version. All instances converge on
 * the store's order.
 *
 * @example
 * class Counter extends LiveActor<typeof CounterEvents, { n: number }> {
 *   static events = CounterEvents
 *   incremented() { this._state.n++ }
 * }
 * const counter = await new Counter('c1', container).Load() // now following live
 * await counter.Fire('incremented')
 * await counter.Stop()
 */
export abstract class LiveActor<C extends AnyEventCatalog = AnyEventCatalog, S extends object = Record<string, unknown>> extends Actor<C, S> {
  private following: Subscription | undefined
  // Events that arrived before the version right after ours: applied once the gap is filled.
  private readonly early = new Map<number, EventEnvelope>()
  // While > 0, each Fire copies the state first, so that losing a race costs a restore and a
  // short catch-up. Without contention the copy is skipped and a (rare) conflict rebuilds.
  private insuredFires = 0
  // Reads of the live following that keep failing (a damaged row, a lost store).
  private readonly followOutage = new Outage(`live following of ${this.actorType} "${this.id}"`, (err, event) =>
    this.container.report(err, { ...(event ? { event } : {}), where: `live following of ${this.actorType} "${this.id}"` }),
  )
  private probing: ReturnType<typeof setTimeout> | undefined
  private static instances = 0
  // This instance's name in the priority lease.
  private readonly priorityOwner = `live:${++LiveActor.instances}:${Math.random().toString(36).slice(2, 10)}`
  // When this instance last applied an event another writer stored (Date.now()).
  private othersSeenAt = -Infinity
  private priorityCheckedAt = -Infinity
  // On a store that queues appends (a RemoteStore): the Fires shown before the server stored them.
  private predictionsOf: Predictions<S> | null | undefined

  /** Loads the state, then follows the stream live until `Stop()`. */
  override async Load(): Promise<this> {
    return this.mailbox.post(async () => {
      // Everything at or below this position is included in what rebuild reads (or its snapshot).
      const head = await this.container.store.headPosition()
      await this.rebuild()
      // What a previous run left queued shows on top of the server state until it lands.
      await this.predictionEngine?.adoptLeftovers()
      this.follow(this.lastPosition > 0 ? this.lastPosition + 1 : head + 1)
      this.startListeners()
      return this
    })
  }

  /**
   * On a store that queues appends (a RemoteStore), Fires do not wait for each other: each is
   * applied at once on top of those still pending and sent after them (see Predictions).
   */
  protected override runFire(event: NewEvent, options: FireOptions<S>): Promise<EventEnvelope> {
    const predictions = this.predictionEngine
    if (!predictions) return super.runFire(event, options)
    return this.mailbox
      .post(async () => {
        if (this.stale) await this.rebuild()
        // Wrapped: the mailbox must not wait for the server's answer.
        return { stored: predictions.fire(event, options.precondition) }
      })
      .then((r) => r.stored)
  }

  protected override async rebuild(): Promise<void> {
    await super.rebuild()
    this.predictionEngine?.rebuilt()
  }

  /**
   * Whether Fires on a store that queues appends are shown as predictions. A OneActor's are
   * not: its leader commits them one at a time, fenced by its term.
   */
  protected get showsPendingFires(): boolean {
    return true
  }

  private get predictionEngine(): Predictions<S> | undefined {
    if (this.predictionsOf === undefined) {
      const store = this.container.store
      this.predictionsOf = this.showsPendingFires && queuesAppends(store)
        ? new Predictions<S>(
            {
              id: this.id,
              store,
              state: () => this._state,
              version: () => this.currentVersion,
              show: (state, version) => {
                this._state = state
                this.currentVersion = version
              },
              apply: (event) => this.apply(event),
              applied: (event, version) => this.applied(event, version),
              appendOptions: (version, event) => this.appendOptions(version, event),
              post: (task) => this.mailbox.post(task),
              publish: (event) => this.container.bus.publish(event),
              report: (err, event) => this.container.report(err, { ...(event ? { event } : {}), where: `predictions of ${this.actorType} "${this.id}"` }),
              markStale: () => (this.stale = true),
              snapshotIfDue: () => this.snapshotIfDue(),
            },
            this.early,
            MAX_REBASES,
          )
        : null
    }
    return this.predictionsOf ?? undefined
  }

  /** Stops following the stream and the listeners. The actor keeps its state; `Load()` starts again. */
  override async Stop(): Promise<void> {
    const following = this.following
    this.following = undefined
    clearTimeout(this.probing)
    this.probing = undefined
    await Promise.all([following?.close(), super.Stop()])
    await this.Idle()
  }

  /**
   * True while the actor follows its stream and keeps up with it; false once stopped, and
   * while its reads fail (then `Stuck` says why, and it retries until they succeed again).
   */
  get Following(): boolean {
    return this.following !== undefined && this.followOutage.status === undefined
  }

  override get Stuck(): StuckStatus | undefined {
    return this.followOutage.status ?? super.Stuck
  }

  private follow(fromPosition: number): void {
    if (this.following) return
    const subscription = this.container.store.subscribe(
      { streamId: this.id, fromPosition, onRetry: (err) => this.followFailed(err) },
      (event) =>
        // Through the mailbox, so a live event never interleaves with a command; awaiting it
        // keeps the subscription from reading ahead of the actor.
        this.mailbox.post(() => this.receive(event)),
    )
    this.following = subscription
    subscription.done.then(
      // Ended without Stop(): the store closed it. Nothing follows any more (and nothing probes).
      () => {
        if (this.following === subscription) this.following = undefined
      },
      (err: unknown) => {
        this.container.report(err, { where: `live subscription of ${this.actorType} "${this.id}"` })
        if (this.following === subscription) this.following = undefined
      },
    )
  }

  /**
   * A read of the live following failed (the subscription retries it on its own). Report the
   * run of failures once, and read the stream here now and then: the subscription says nothing
   * when a read succeeds again, and a healed store with nothing new would look stuck forever.
   */
  private followFailed(err: unknown): void {
    this.followOutage.fail(err)
    if (this.probing || !this.following) return
    const probe = (attempt: number) => {
      this.probing = setTimeout(() => {
        this.mailbox
          .post(async () => {
            if (!this.followOutage.status || !this.following) return
            await this.catchUp()
            // A store that reads from a local copy while its server is away answers reads all
            // the same: the outage lasts until the server answers again.
            const store = this.container.store
            if (queuesAppends(store) && !store.reachable) throw this.followOutage.status.error
            this.followOutage.end()
          })
          .then(
            () => (this.probing = undefined),
            (failure: unknown) => {
              this.followOutage.fail(failure)
              if (this.following) probe(attempt + 1)
              else this.probing = undefined
            },
          )
      }, Math.min(MAX_PROBE_MS, 100 * 2 ** attempt))
    }
    probe(0)
  }

  private async receive(event: EventEnvelope): Promise<void> {
    // A delivered event proves the reads work again.
    this.followOutage.end()
    if (this.stale) await this.rebuildAfterFailure()
    if (this.predictionEngine?.active) return this.predictionEngine.serverEvent(event)
    if (event.version <= this.currentVersion) return // already applied (our own, or read by a rebuild)
    if (event.version > this.currentVersion + 1) {
      this.early.set(event.version, event)
      return
    }
    this.applyLive(event)
    for (let next = this.early.get(this.currentVersion + 1); next; next = this.early.get(this.currentVersion + 1)) {
      this.early.delete(next.version)
      this.applyLive(next)
    }
    for (const version of this.early.keys()) if (version <= this.currentVersion) this.early.delete(version)
  }

  private applyLive(event: EventEnvelope): void {
    this.othersSeenAt = Date.now()
    try {
      this.apply(event)
    } catch (err) {
      // The store holds an event this class cannot apply: report it, and rebuild before the
      // next command so that the failure shows there too instead of half-applied state.
      this.stale = true
      this.container.report(err, { event, where: `live apply in ${this.actorType} "${this.id}"` })
    }
  }

  /**
   * Optimistic commit: apply at once; on a conflict, go back to the store's state (the
   * competing events applied, ours not), re-check the precondition and try again at the next
   * version. The event keeps its id throughout, so a retry can never store it twice.
   */
  protected override async commit(event: NewEvent, options: FireOptions<S>): Promise<EventEnvelope> {
    let priority: number | undefined
    try {
      return await this.commitRacing(event, options, async (attempt) => {
        if (attempt < LOSSES_BEFORE_PRIORITY || priority !== undefined) return
        priority = await this.takePriority()
        // Another Fire has priority: it goes first, this one after it.
        if (priority === undefined) await this.waitForPriority()
      })
    } finally {
      if (priority !== undefined) await this.container.store.releaseLease(this.priorityLease, this.priorityOwner, priority, this.container.clock.now()).catch(() => undefined)
    }
  }

  private async commitRacing(event: NewEvent, options: FireOptions<S>, lost: (attempt: number) => Promise<void>): Promise<EventEnvelope> {
    for (let attempt = 0; ; attempt++) {
      // Losing a race costs a read of the winners' events while a winner fires its next event
      // at once, so one writer could keep winning and another starve. A Fire that lost a few
      // times takes the priority lease, and a new Fire waits for the lease's holder to store
      // its event first. The check costs a read of the lease: made before each Fire while
      // other writers are about (a lost race, or their events applied lately), and otherwise
      // now and then, since a writer that always wins hears nothing of those that lose.
      if (attempt === 0 && this.priorityCheckDue()) await this.waitForPriority()
      if (this.stale) await this.rebuild()
      this.checkPrecondition(event, options)
      const before = this.insuredFires > 0 ? structuredClone(this._state) : undefined
      const expectedVersion = this.currentVersion
      const rollBack = async () => {
        if (!before) return this.rebuild()
        this._state = before
        this.currentVersion = expectedVersion
        await this.catchUp()
      }
      try {
        this.apply(this.applied(event, expectedVersion + 1))
      } catch (err) {
        await this.rebuildAfterFailure()
        throw err
      }
      try {
        const stored = await this.appendApplied(event, expectedVersion)
        if (this.insuredFires > 0) this.insuredFires--
        return stored
      } catch (err) {
        if (!isConcurrencyError(err) || attempt >= MAX_REBASES) {
          await this.rebuildAfterFailure()
          throw err
        }
      }
      this.insuredFires = INSURED_FIRES_AFTER_CONFLICT
      try {
        // Back to the store's state: the competing events applied, ours not.
        await rollBack()
      } catch (err) {
        await this.rebuildAfterFailure()
        throw err
      }
      await lost(attempt + 1)
    }
  }

  private get priorityLease(): string {
    return derivedName(this.container.store, 'live', this.actorType, this.id)
  }

  /** Takes the priority lease if it is free; resolves with its term (undefined: someone has it). */
  private async takePriority(): Promise<number | undefined> {
    try {
      const lease = await this.container.store.acquireLease(this.priorityLease, this.priorityOwner, PRIORITY_MS, this.container.clock.now())
      return lease.holder === this.priorityOwner ? lease.term : undefined
    } catch {
      return undefined // priority is a courtesy: without it the Fire still retries
    }
  }

  /** Whether a new Fire should look at the priority lease first (see commitRacing). */
  protected priorityCheckDue(): boolean {
    const now = Date.now()
    if (this.insuredFires === 0 && now - this.othersSeenAt >= CONTENDED_FOR_MS && now - this.priorityCheckedAt < PRIORITY_CHECK_MS) return false
    this.priorityCheckedAt = now
    return true
  }

  /** Waits (at most PRIORITY_MS) while another instance holds the priority lease. */
  private async waitForPriority(): Promise<void> {
    const until = Date.now() + PRIORITY_MS
    for (let pause = 1; Date.now() < until; pause = Math.min(pause * 2, 20)) {
      const lease = await this.container.store.readLease(this.priorityLease).catch(() => undefined)
      if (!lease || lease.holder === this.priorityOwner || lease.expiresAt <= this.container.clock.now()) return
      await new Promise((r) => setTimeout(r, pause))
    }
  }

  /** Applies what the store holds beyond our version: the events that beat our Fire. */
  private async catchUp(): Promise<void> {
    if (this.predictionEngine?.active) return this.predictionEngine.catchUp()
    for await (const event of this.container.store.readStream(this.id, { fromVersion: this.currentVersion + 1 })) {
      this.apply(event)
      this.othersSeenAt = Date.now()
    }
  }
}

reserveFrameworkMembers(LiveActor.prototype)
