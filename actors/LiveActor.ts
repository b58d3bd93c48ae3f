import {
  isConcurrencyError,
  type AnyEventCatalog,
  type EventEnvelope,
  type NewEvent,
  type Subscription,
} from '../lib/index.js'
import { Actor, reserveFrameworkMembers, type FireOptions } from './Actor.js'

/** How many times a Fire is re-applied on top of competing events before it gives up. */
const MAX_REBASES = 1_000
/** After a conflict, how many Fires keep a copy of the state to roll back to cheaply. */
const INSURED_FIRES_AFTER_CONFLICT = 64

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

  /** Loads the state, then follows the stream live until `Stop()`. */
  override async Load(): Promise<this> {
    return this.mailbox.post(async () => {
      // Everything at or below this position is included in what rebuild reads (or its snapshot).
      const head = await this.container.store.headPosition()
      await this.rebuild()
      this.follow(this.lastPosition > 0 ? this.lastPosition + 1 : head + 1)
      this.startListeners()
      return this
    })
  }

  /** Stops following the stream and the listeners. The actor keeps its state; `Load()` starts again. */
  override async Stop(): Promise<void> {
    const following = this.following
    this.following = undefined
    await Promise.all([following?.close(), super.Stop()])
    await this.Idle()
  }

  /** True while the actor follows its stream. */
  get Following(): boolean {
    return this.following !== undefined
  }

  private follow(fromPosition: number): void {
    if (this.following) return
    const subscription = this.container.store.subscribe({ streamId: this.id, fromPosition }, (event) =>
      // Through the mailbox, so a live event never interleaves with a command; awaiting it
      // keeps the subscription from reading ahead of the actor.
      this.mailbox.post(() => this.receive(event)),
    )
    this.following = subscription
    subscription.done.catch((err: unknown) => {
      this.container.report(err, { where: `live subscription of ${this.actorType} "${this.id}"` })
      if (this.following === subscription) this.following = undefined
    })
  }

  private async receive(event: EventEnvelope): Promise<void> {
    if (this.stale) await this.rebuildAfterFailure()
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
    for (let attempt = 0; ; attempt++) {
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
      // Many writers on one id: a little random spacing breaks lock-step retries.
      if (attempt >= 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 20)))
    }
  }

  /** Applies what the store holds beyond our version: the events that beat our Fire. */
  private async catchUp(): Promise<void> {
    for await (const event of this.container.store.readStream(this.id, { fromVersion: this.currentVersion + 1 })) {
      this.apply(event)
    }
  }
}

reserveFrameworkMembers(LiveActor.prototype)
