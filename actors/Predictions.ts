import {
  ConcurrencyError,
  PreconditionFailedError,
  isConcurrencyError,
  isOmniscientError,
  type AppendOptions,
  type AppliedEvent,
  type EventEnvelope,
  type NewEvent,
  type StorageAdapter,
} from '../lib/index.js'
import { deferred, type Deferred } from '../lib/deferred.js'
import type { AppendQueue, LeftoverAppend } from '../lib/store/kit/AppendQueue.js'

/** What the prediction engine needs of its LiveActor. */
export interface PredictionHost<S> {
  readonly id: string
  readonly store: StorageAdapter & AppendQueue
  /** The state shown (the actor's `_state`) and its version. */
  state(): S
  version(): number
  show(state: S, version: number): void
  apply(event: AppliedEvent): void
  applied(event: NewEvent, version: number): AppliedEvent
  appendOptions(expectedVersion: number, event: NewEvent): AppendOptions
  /** Runs a task in the actor's mailbox. */
  post(task: () => Promise<void>): Promise<void>
  publish(event: EventEnvelope): void
  report(err: unknown, event?: EventEnvelope): void
  /** A server event failed to apply: rebuild before the next command. */
  markStale(): void
  snapshotIfDue(): Promise<void>
}

/** One event shown before the server has stored it. */
interface Prediction<S> {
  readonly event: NewEvent
  readonly precondition: ((state: Readonly<S>) => boolean) | undefined
  /** The Fire waiting for it; absent for a leftover of a previous run (the store sends those). */
  readonly fire: Deferred<EventEnvelope> | undefined
  /** An append of it is on its way: it may still land, so it is never rejected meanwhile. */
  sent: boolean
  /** Part of the state shown (false while its precondition or handler fails on top). */
  shown: boolean
  /** Its last append (a leftover: the store's resend), which those made on top of it follow. */
  sending: Promise<unknown> | undefined
  rebases: number
}

/**
 * The Figma rule for a LiveActor on a store that queues appends (a RemoteStore): the state shown
 * is the last known server state (`base`) with every unacknowledged event applied on top, in the
 * order they were fired. Several Fires are in flight at once, sent in order. Server events are
 * applied to the base and the pending events applied again on top (rebased); an event that can
 * no longer apply is rejected to its Fire and leaves the state shown. The rule in full is in
 * docs/sync.md ("Pending Fires"). Every method runs inside the actor's mailbox.
 */
export class Predictions<S extends object> {
  private base: { state: S; version: number } | undefined
  private readonly pending: Array<Prediction<S>> = []
  // Own appends sent and not answered yet. A rebase waits for all of them: the store refuses,
  // unsent, what was queued behind a refused one, and a resend must come after those answers.
  private outstanding = 0

  constructor(
    private readonly host: PredictionHost<S>,
    private readonly early: Map<number, EventEnvelope>,
    private readonly maxRebases: number,
  ) {}

  /** True while some event is shown that the server has not stored yet. */
  get active(): boolean {
    return this.base !== undefined
  }

  /**
   * Applies a Fire at once on top of what is shown, queues it and sends it after the pending
   * ones; resolves when the server has stored it. Throws (nothing queued) when its precondition
   * fails or its handler throws on the state shown.
   */
  fire(event: NewEvent, precondition: ((state: Readonly<S>) => boolean) | undefined): Promise<EventEnvelope> {
    const h = this.host
    if (precondition && !precondition(h.state())) throw new PreconditionFailedError(h.id, event.name, h.version())
    this.base ??= { state: structuredClone(h.state()), version: h.version() }
    try {
      h.apply(h.applied(event, h.version() + 1))
    } catch (err) {
      this.show()
      this.settleIfDone()
      throw err
    }
    const p: Prediction<S> = { event, precondition, fire: deferred<EventEnvelope>(), sent: false, shown: true, rebases: 0, sending: undefined }
    this.pending.push(p)
    // Behind Fires waiting to be sent again, it waits for that rebase too.
    if (!this.pending.some((q) => q.fire && !q.sent && q !== p)) this.send(p, this.base.version + this.pending.length - 1, this.pending.at(-2))
    return p.fire!.promise
  }

  /** Shows a previous run's queued appends of this stream on top, until they land or are refused. */
  async adoptLeftovers(): Promise<void> {
    this.adopt(await this.host.store.leftovers(this.host.id))
  }

  private adopt(leftovers: readonly LeftoverAppend[]): void {
    for (const leftover of leftovers) {
      const known = new Set(this.pending.map((p) => p.event.id))
      const mine = leftover.events.filter((e) => !known.has(e.id)).map((event): Prediction<S> => ({ event, precondition: undefined, fire: undefined, sent: false, shown: true, rebases: 0, sending: leftover.outcome }))
      if (mine.length === 0) continue
      this.base ??= { state: structuredClone(this.host.state()), version: this.host.version() }
      this.pending.push(...mine)
      leftover.outcome.then(
        (result) => this.host.post(() => this.landed(mine, result.events)),
        () => this.host.post(async () => this.withdraw(mine)),
      ).catch((err: unknown) => this.host.report(err))
    }
    if (this.base) this.show()
  }

  /** A server event of this stream, from the live feed. */
  async serverEvent(event: EventEnvelope): Promise<void> {
    const base = this.base!
    if (event.version <= base.version) return
    if (event.version > base.version + 1) {
      this.early.set(event.version, event)
      return
    }
    let changed = this.advance(event)
    for (let next = this.early.get(base.version + 1); next; next = this.early.get(base.version + 1)) {
      this.early.delete(next.version)
      changed = this.advance(next) || changed
    }
    for (const version of this.early.keys()) if (version <= base.version) this.early.delete(version)
    if (changed) this.show()
    this.settleIfDone()
    await this.snapshotIfIdle()
  }

  /** Reads what the store holds beyond the base and applies it there (the events that beat ours). */
  async catchUp(toVersion?: number): Promise<void> {
    if (!this.base) return
    let changed = false
    for await (const event of this.host.store.readStream(this.host.id, { fromVersion: this.base.version + 1, ...(toVersion !== undefined ? { toVersion } : {}) })) {
      changed = this.advance(event) || changed
    }
    if (changed) this.show()
    this.settleIfDone()
  }

  /** After the actor rebuilt from the store (its state is the server's): the predictions go on top again. */
  rebuilt(): void {
    if (this.pending.length === 0) {
      this.base = undefined
      return
    }
    this.base = { state: structuredClone(this.host.state()), version: this.host.version() }
    this.show()
  }

  /** Sends a prediction; made on top of `before`, it is not sent if that one's append is refused. */
  private send(p: Prediction<S>, expectedVersion: number, before: Prediction<S> | undefined): void {
    const h = this.host
    p.sent = true
    this.outstanding++
    const sending = h.store.appendInOrder(h.id, [p.event], h.appendOptions(expectedVersion, p.event), before?.sending)
    p.sending = sending
    sending.catch(() => undefined)
    sending.then(
      (result) => h.post(() => this.answered(p, result.events, result.alreadyStored, undefined)),
      (err: unknown) => h.post(() => this.answered(p, undefined, false, err)),
    ).catch((err: unknown) => h.report(err))
  }

  private async answered(p: Prediction<S>, stored: readonly EventEnvelope[] | undefined, alreadyStored: boolean, err: unknown): Promise<void> {
    this.outstanding--
    p.sent = false
    if (stored) {
      if (!alreadyStored) for (const e of stored) this.host.publish(e)
      if (this.pending.includes(p)) await this.landed([p], stored)
      p.fire?.resolve(stored[0]!)
    } else if (this.pending.includes(p)) {
      // Lost a race (or queued behind a refused one): sent again on top once all are answered.
      if (!isConcurrencyError(err) && !(isOmniscientError(err) && err.code === 'NOT_SENT')) {
        this.drop(p, err)
        this.show()
      }
    }
    if (this.outstanding === 0 && this.pending.some((q) => q.fire && !q.sent)) await this.resend()
    this.settleIfDone()
    await this.snapshotIfIdle()
  }

  /** Predictions the server stored: the base catches up to them (they leave `pending` by id). */
  private async landed(predictions: ReadonlyArray<Prediction<S>>, stored: readonly EventEnvelope[]): Promise<void> {
    if (!this.base) return
    const last = stored[stored.length - 1]
    if (last && last.version > this.base.version) await this.catchUp(last.version)
    // Already part of the base (read by a rebuild): they are no longer predictions.
    if (predictions.some((p) => this.pending.includes(p))) this.withdraw(predictions)
    for (const p of predictions) p.fire?.resolve(stored[predictions.indexOf(p)] ?? stored[0]!)
  }

  /** Takes predictions out of what is shown (a leftover refused, or one already in the base). */
  private withdraw(predictions: ReadonlyArray<Prediction<S>>): void {
    let changed = false
    for (const p of predictions) {
      const i = this.pending.indexOf(p)
      if (i < 0) continue
      this.pending.splice(i, 1)
      changed = true
    }
    if (changed && this.base) this.show()
    this.settleIfDone()
  }

  /**
   * Sends again, on top of the server state, the own predictions whose append lost a race or
   * was not sent: the base catches up, each is checked again in order (one that no longer
   * applies is rejected), and they go out one after another at the versions that follow.
   */
  private async resend(): Promise<void> {
    try {
      await this.catchUp()
    } catch (err) {
      for (const q of [...this.pending]) if (q.fire && !q.sent) this.drop(q, err)
      return
    }
    if (!this.base) return
    for (const q of [...this.pending]) {
      if (q.fire && !q.sent && ++q.rebases > this.maxRebases) this.drop(q, new ConcurrencyError(this.host.id, this.base.version, this.base.version + 1))
    }
    this.show()
    const base = this.base
    this.pending.forEach((q, index) => {
      if (q.fire && !q.sent && q.shown) this.send(q, base.version + index, this.pending[index - 1])
    })
  }

  /** Applies a server event to the base; true when what is shown must be computed again. */
  private advance(event: EventEnvelope): boolean {
    const base = this.base!
    if (event.version !== base.version + 1) return false
    const h = this.host
    const shownState = h.state()
    const shownVersion = h.version()
    h.show(base.state, base.version)
    try {
      h.apply(event)
    } catch (err) {
      // The store holds an event this class cannot apply: rebuild before the next command.
      h.markStale()
      h.report(err, event)
    } finally {
      base.version = event.version
      h.show(shownState, shownVersion)
    }
    const i = this.pending.findIndex((p) => p.event.id === event.id)
    if (i < 0) return true // another writer's event: ours go on top of it
    const [p] = this.pending.splice(i, 1)
    // Its Fire resolves with the append's answer (the queue is empty of it by then).
    if (!p!.sent) p!.fire?.resolve(event)
    // The first prediction landed where it was shown: what is shown stays as it is.
    return i !== 0 || !p!.shown
  }

  /**
   * Computes what is shown: the base, then each prediction in order. One whose precondition
   * fails or whose handler throws on top is rejected to its Fire when no append of it is on its
   * way; otherwise (it may still land) it is only hidden until the server answers.
   */
  private show(): void {
    const base = this.base
    if (!base) return
    const h = this.host
    const hidden = new Set<Prediction<S>>()
    for (let again = true; again; ) {
      again = false
      h.show(structuredClone(base.state), base.version)
      for (const p of [...this.pending]) {
        if (hidden.has(p)) continue
        if (p.precondition && !p.precondition(h.state())) {
          this.refuse(p, new PreconditionFailedError(h.id, p.event.name, h.version()), hidden)
          continue
        }
        try {
          h.apply(h.applied(p.event, h.version() + 1))
          p.shown = true
        } catch (err) {
          // The handler may have changed the state half-way: start again without it.
          this.refuse(p, err, hidden)
          again = true
          break
        }
      }
    }
  }

  private refuse(p: Prediction<S>, err: unknown, hidden: Set<Prediction<S>>): void {
    p.shown = false
    if (p.fire && !p.sent) this.drop(p, err)
    else hidden.add(p)
  }

  private drop(p: Prediction<S>, err: unknown): void {
    const i = this.pending.indexOf(p)
    if (i >= 0) this.pending.splice(i, 1)
    if (!p.fire) return
    // Kept queued after a lost race until sent again: given up now, it must not be sent later.
    this.host.store.forget(p.event.id).catch((e: unknown) => this.host.report(e))
    p.fire.reject(err)
  }

  /** With nothing pending, what is shown is the base itself. */
  private settleIfDone(): void {
    if (!this.base || this.pending.length > 0) return
    this.host.show(this.base.state, this.base.version)
    this.base = undefined
  }

  private async snapshotIfIdle(): Promise<void> {
    if (!this.base) await this.host.snapshotIfDue()
  }
}
