import {
  ConcurrencyError,
  LeaseLostError,
  ProposalRejectedError,
  ProposalTimeoutError,
  UnknownEventError,
  isOmniscientError,
  type AnyEventCatalog,
  type AppendOptions,
  type AppliedEvent,
  type EventData,
  type EventEnvelope,
  type EventName,
  type Listener,
  type NewEvent,
  type Subscription,
  type Container,
} from '../lib/index.js'
import { findDefinition, validateEventData } from '../lib/events.js'
import { startListener } from '../lib/listeners/Listener.js'
import { instanceLabel } from '../lib/ids.js'
import { LeaseKeeper } from '../lib/leases/LeaseKeeper.js'
import { derivedName } from './derivedNames.js'
import { regionOf, type ShardRegion, type ShardTiming, type ShardedActor, type ShardedClass } from './ShardRegion.js'
import { reserveFrameworkMembers, type FireArgs } from './Actor.js'
import { LiveActor } from './LiveActor.js'
import { traceFire, traceLeaderCommit } from '../lib/telemetry/spans.js'

/** The statics a OneActor class may set. */
export interface OneActorStatics {
  /** How long a leader's lease lasts without renewal, in ms. Default 2000. */
  readonly leaseMs?: number
  /** How often the leader renews and followers try to take over, in ms. Default leaseMs / 4. */
  readonly renewEveryMs?: number
  /**
   * How long before the lease's expiry the leader stops believing it leads, by its own clock, in
   * ms: the clock difference between processes tolerated without two leaders. Default leaseMs / 10.
   */
  readonly leaseMarginMs?: number
  /** How long a follower's Fire waits for the leader's answer, in ms. Default 30,000. */
  readonly proposalTimeoutMs?: number
  /**
   * Leadership by shard instead of by id (docs/shards.md): the ids are spread over `shards`
   * shards, the processes that host the class split the shards evenly, and the owner of a
   * shard leads every actor of it under one lease. Default false: one lease per id.
   */
  readonly sharded?: boolean
  /** How many shards a sharded class has. Default 64. Change it only with every process of the class stopped. */
  readonly shards?: number
  /** The most processes that may host a sharded class at once. Default 16. */
  readonly shardHosts?: number
}

/** The shard count of a sharded OneActor class that does not set `static shards`. */
export const DEFAULT_SHARDS = 64
/** The most processes that host a sharded class, unless it sets `static shardHosts`. */
export const DEFAULT_SHARD_HOSTS = 16

interface Pending {
  resolve(envelope: EventEnvelope): void
  reject(err: Error): void
  cancel(): void
}

let instances = 0

// Failures of the store that say nothing about the event: the leader handles the proposal
// again (the listener retries it with backoff) instead of rejecting it.
// A damaged row (EVENT_DECODE) stops the leader until it is repaired: not the event's fault either.
// By code, not class: a RemoteStore fails with the sync client's errors (UNREACHABLE, and its
// deadlines' STORAGE_UNAVAILABLE / STORAGE_INDETERMINATE), which are no StorageError.
const TRANSIENT = new Set(['STORAGE', 'STORAGE_BUSY', 'STORAGE_UNAVAILABLE', 'STORAGE_INDETERMINATE', 'CONCURRENCY_EXHAUSTED', 'STORE_CLOSED', 'EVENT_DECODE', 'UNREACHABLE'])
/** How many applied events' envelopes an instance remembers, to answer proposals of stored events. */
const RECENT_EVENTS = 128

function leaseMsOf(statics: OneActorStatics): number {
  return statics.leaseMs ?? 2_000
}

function renewEveryMsOf(statics: OneActorStatics): number {
  return statics.renewEveryMs ?? Math.max(50, Math.floor(leaseMsOf(statics) / 4))
}

/** The region's timing from a sharded class's statics, checked. */
function shardTiming(statics: OneActorStatics, actorType: string): ShardTiming {
  const shards = statics.shards ?? DEFAULT_SHARDS
  const hosts = statics.shardHosts ?? DEFAULT_SHARD_HOSTS
  if (!Number.isInteger(shards) || shards < 1 || shards > 65_536) throw new TypeError(`${actorType}: static shards must be an integer from 1 to 65,536 (got ${shards})`)
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 1_024) throw new TypeError(`${actorType}: static shardHosts must be an integer from 1 to 1,024 (got ${hosts})`)
  return { shards, hosts, leaseMs: leaseMsOf(statics), renewEveryMs: renewEveryMsOf(statics), ...(statics.leaseMarginMs === undefined ? {} : { marginMs: statics.leaseMarginMs }) }
}

function isTransient(err: unknown): boolean {
  return err instanceof ConcurrencyError || (isOmniscientError(err) && TRANSIENT.has(err.code))
}

/**
 * An actor with one leader per id across every process that shares the store, elected
 * through a lease. The leader applies and stores events under its lease term (fenced: a
 * deposed leader's writes are refused by the store). On a follower, `Fire` is a proposal:
 * nothing is applied locally; the leader validates it, stores it, and every instance (the
 * proposer too) applies it from the stream; `Fire` then resolves with the stored envelope, or
 * rejects with `ProposalRejectedError` if the leader refused it. When the leader stops
 * renewing, a follower takes the lease after it expires.
 *
 * @example
 * class Stock extends OneActor<typeof StockEvents, { left: number }> {
 *   static events = StockEvents
 *   sold() { if (this._state.left === 0) throw new Error('sold out'); this._state.left-- }
 * }
 * const stock = await container.actors.get(Stock, 'sku-1')
 * await stock.Fire('sold', { qty: 1 }) // on any process: committed once, by the leader
 */
export abstract class OneActor<C extends AnyEventCatalog = AnyEventCatalog, S extends object = Record<string, unknown>> extends LiveActor<C, S> {
  /** This instance's identity in the lease. */
  readonly owner = `${instanceLabel()}:${++instances}:${Math.random().toString(36).slice(2, 8)}`
  // Unsharded: holds the actor's lease; leadership ends at its local expiry (docs/leadership.md) or when fenced out.
  private keeper: LeaseKeeper | undefined
  private stopped = true
  private proposals: Listener | undefined
  private rejections: Subscription | undefined
  private readonly pending = new Map<string, Pending>()
  // The envelopes of the last events applied, by id (insertion order: oldest first).
  private readonly recent = new Map<string, EventEnvelope>()
  // Proposals whose commit failed in a way that may have stored the event anyway: the version
  // from which to look for it before committing it again.
  private readonly unsettled = new Map<string, number>()
  private shardOfActor: { region: ShardRegion; index: number } | null | undefined

  /**
   * True while this instance leads: holds the actor's lease, or, sharded, its process leads the
   * shard. False from the lease's expiry by this process's own clock on, whatever its store does.
   */
  get IsLeader(): boolean {
    return this.shard ? this.shard.region.leads(this.shard.index) : (this.keeper?.isLeading() ?? false)
  }

  /** The lease term this instance leads under (0 when it does not lead). */
  get Term(): number {
    return this.term
  }

  // The term commits are stamped and fenced with. Sharded: the shard's, also while the shard is
  // being handed over (work under way finishes under it; new work is proposed, see IsLeader).
  private get term(): number {
    return this.shard ? this.shard.region.termOf(this.shard.index) : (this.keeper?.term ?? 0)
  }

  // Whether a Fire here commits (fenced) rather than proposes. Unsharded: from onLeading until
  // onFollowing, so a Fire past the local expiry, before the step-down ran, is refused at once.
  private get commitsHere(): boolean {
    return this.shard ? this.IsLeader : (this.keeper?.holding ?? false)
  }

  /** Loads, follows the stream, and takes part in the election (or, sharded, joins its shard). */
  override async Load(): Promise<this> {
    await super.Load()
    if (this.stopped) {
      this.stopped = false
      if (this.shard) {
        this.shard.region.attach(this)
        return this
      }
      this.rejections = this.container.store.subscribe({ streamId: this.proposalStream, names: ['rejected'], fromPosition: (await this.container.store.headPosition()) + 1 }, (e) => this.onRejected(e))
      const statics = this.oneStatics
      this.keeper ??= new LeaseKeeper(
        this.container,
        this.leaseName,
        this.owner,
        { leaseMs: leaseMsOf(statics), renewEveryMs: renewEveryMsOf(statics), ...(statics.leaseMarginMs === undefined ? {} : { marginMs: statics.leaseMarginMs }) },
        { onLeading: () => this.becomeLeader(), onFollowing: () => this.becomeFollower() },
      )
      await this.keeper.start()
    }
    return this
  }

  /**
   * Leaves the election (releasing the lease if held, so a follower takes over at once) and
   * stops following. Sharded, the lease is the shard's: it stays with the process.
   */
  override async Stop(): Promise<void> {
    this.stopped = true
    if (this.shard) {
      this.shard.region.detach(this)
      return super.Stop()
    }
    await this.keeper?.stop()
    await this.rejections?.close()
    this.rejections = undefined
    await super.Stop()
  }

  /** @internal The region of a sharded class hands this actor a proposal addressed to it. */
  handleShardProposal(proposal: EventEnvelope): Promise<void> {
    return this.handleProposal(proposal)
  }

  /** @internal This process now leads the actor's shard. */
  shardLeading(): void {
    this.onLeading()
  }

  /** @internal This process no longer leads the actor's shard. */
  shardFollowing(): void {
    this.onFollowing()
  }

  /** Sharded classes: the region of the class in this container and the actor's shard. */
  private get shard(): { region: ShardRegion; index: number } | undefined {
    if (this.shardOfActor === undefined) {
      const statics = this.oneStatics
      if (!statics.sharded) this.shardOfActor = null
      else {
        const region = regionOf(this.container, this.constructor as unknown as ShardedClass, this.actorType, shardTiming(statics, this.actorType))
        this.shardOfActor = { region, index: region.shardOf(this.id) }
      }
    }
    return this.shardOfActor ?? undefined
  }



  // Its Fires go through the leader, not through LiveActor's predictions.
  protected override get showsPendingFires(): boolean {
    return false
  }

  override async Fire<K extends EventName<C>>(name: K, ...args: FireArgs<C, K, S>): Promise<EventEnvelope<K, EventData<C, K>>> {
    const options = args[1] ?? {}
    if (options.precondition) {
      throw new TypeError('a OneActor checks its invariants in its handlers (a throwing handler rejects the event); Fire takes no precondition')
    }
    const prepared = this.prepare(name, args[0], options)
    const traced = traceFire(this.actorType, this.id, prepared, options.causedBy, this.IsLeader ? 'leader' : 'proposer')
    if (traced) return (await traced.run((e) => this.fireAsOne(e))) as EventEnvelope<K, EventData<C, K>>
    return (await this.fireAsOne(prepared)) as EventEnvelope<K, EventData<C, K>>
  }

  /** A prepared Fire: proposed to the leader, or committed here when this instance leads. */
  private async fireAsOne(event: NewEvent): Promise<EventEnvelope> {
    if (!this.commitsHere) return await this.propose(event)
    try {
      return await this.mailbox.post(() => this.commit(this.underTerm(event), {}))
    } catch (err) {
      // Deposed while committing: nothing was stored; the caller may retry (it will propose).
      if (err instanceof LeaseLostError) await this.stepDown(err.term)
      throw err
    }
  }

  /**
   * Every append of a OneActor is fenced with the term stamped into the event when its commit
   * began, never with "no lease": an instance that stepped down while a commit waited in its
   * mailbox stamped term 0 (or an old term), and the store refuses it.
   */
  protected override appendOptions(expectedVersion: number, event: NewEvent): AppendOptions {
    return { expectedVersion, lease: { name: this.leaseName, term: event.meta.term ?? 0 } }
  }

  /** A pending proposal resolves when its event is applied here from the store... */
  protected override apply(event: AppliedEvent): void {
    super.apply(event)
    if (event.position !== undefined) {
      this.remember(event as EventEnvelope)
      this.settle(event as EventEnvelope)
    }
  }

  private remember(stored: EventEnvelope): void {
    this.recent.set(stored.id, stored)
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value!)
  }

  /** ...or when this instance, having become the leader, stored it itself. */
  protected override async appendApplied(event: NewEvent, expectedVersion: number): Promise<EventEnvelope> {
    // Fenced again just before sending: a commit that re-read a stale state first may get here
    // past the lease's local expiry (the actor's or its shard's), and then nothing is sent
    // (LeaseLostError).
    const shard = this.shard
    if (shard) shard.region.fence(shard.index, event.meta.term ?? 0)
    else this.keeper?.fence()
    const stored = await super.appendApplied(event, expectedVersion)
    this.remember(stored)
    this.settle(stored)
    return stored
  }

  /** The leader is the only writer (fenced): no other Fire to let go first. */
  protected override priorityCheckDue(): boolean {
    return false
  }

  /**
   * Stamps the leader term into the event's meta (the store checks the term itself). Unsharded,
   * past the lease's local expiry it throws LeaseLostError before anything is applied or sent.
   */
  private underTerm(event: NewEvent): NewEvent {
    const term = this.shard || !this.keeper ? this.term : this.keeper.fence().term
    return { ...event, meta: { ...event.meta, term } }
  }

  private settle(stored: EventEnvelope): void {
    const pending = this.pending.get(stored.id)
    if (!pending) return
    this.pending.delete(stored.id)
    pending.cancel()
    pending.resolve(stored)
  }

  private get oneStatics(): OneActorStatics {
    return this.constructor as OneActorStatics
  }

  private get leaseName(): string {
    const shard = this.shard
    return shard ? shard.region.leaseName(shard.index) : derivedName(this.container.store, 'one', this.actorType, this.id)
  }

  private get proposalStream(): string {
    const shard = this.shard
    return shard ? shard.region.proposalStream(shard.index) : derivedName(this.container.store, '__proposals', this.actorType, this.id)
  }

  /** Called when this instance becomes the leader (for subclasses such as TickActor). */
  protected onLeading(): void {}

  /** Called when this instance stops leading. */
  protected onFollowing(): void {}

  private becomeLeader(): void {
    this.onLeading()
    // The proposals the previous leader did not finish are this leader's to finish: the
    // checkpoint is shared, and event ids make a proposal handled twice stored once.
    this.proposals = startListener(
      this.container.store,
      this.proposalStream,
      { durable: derivedName(this.container.store, '__proposals', this.actorType, this.id, '/handled'), from: 'start' },
      (e) => this.handleProposal(e),
      (err, event) => {
        if (!(err instanceof LeaseLostError)) this.container.report(err, { ...(event ? { event } : {}), where: `proposals of ${this.actorType} "${this.id}"` })
      },
    )
  }

  private async stepDown(term = this.term): Promise<void> {
    const shard = this.shard
    if (shard) {
      // Fenced out: the shard's term is over for every actor of it in this process.
      if (term > 0) shard.region.lost(shard.index, term)
      return
    }
    // The keeper calls becomeFollower if `term` is still the one it holds.
    this.keeper?.lost(term)
  }

  private becomeFollower(): void {
    this.onFollowing()
    const proposals = this.proposals
    this.proposals = undefined
    // Not awaited: a step-down may come from inside a proposal handler, which close() waits for.
    void proposals?.close()
  }

  private async handleProposal(proposal: EventEnvelope): Promise<void> {
    if (proposal.name !== 'proposed') return
    const event = (proposal.data as { event: NewEvent }).event
    // Stored already (a proposal sent again, or handled again after a failure or a failover):
    // the proposer hears of it from the stream. Applying it again could make a handler refuse
    // an event that is stored.
    if (await this.isStored(event.id)) return
    const before = this.currentVersion
    try {
      const definition = findDefinition(this.catalog, event.name)
      if (!definition) throw new UnknownEventError(event.name, this.actorType, Object.keys(this.catalog))
      const data = validateEventData(definition, event.data)
      if (this.term === 0) throw new LeaseLostError(this.leaseName, 0, 0)
      await traceLeaderCommit(this.actorType, this.id, event, proposal, () => this.mailbox.post(() => this.commit(this.underTerm({ ...event, data }), {})))
      this.unsettled.delete(event.id)
    } catch (err) {
      if (err instanceof LeaseLostError) {
        await this.stepDown(err.term)
        throw err // not handled: the next leader will
      }
      if (isTransient(err)) {
        // Not an answer: the store failed, and the commit may even have landed
        // (STORAGE_INDETERMINATE). Thrown, the proposal is retried with backoff (reported once
        // per run of failures); before committing it again, isStored reads the id back.
        this.unsettled.set(event.id, Math.min(before + 1, this.unsettled.get(event.id) ?? Infinity))
        throw err
      }
      const reason = err instanceof Error ? err.message : String(err)
      const code = isOmniscientError(err) ? err.code : 'REJECTED'
      await this.container.store.append(
        this.proposalStream,
        // One rejection per proposal, so a proposal sent again is answered again.
        [{ id: `rejected/${proposal.id}`, name: 'rejected', data: { eventId: event.id, code, reason }, schemaVersion: 1, at: this.container.clock.now(), meta: { actorType: this.actorType, causationId: proposal.id } }],
        { expectedVersion: 'any' },
      )
    }
  }

  /** Whether the event is in the stream: among those applied lately, or, after a failed commit, read back. */
  private async isStored(eventId: string): Promise<boolean> {
    if (this.recent.has(eventId)) return true
    const fromVersion = this.unsettled.get(eventId)
    if (fromVersion === undefined) return false
    for await (const e of this.container.store.readStream(this.id, { fromVersion })) {
      if (e.id === eventId) {
        this.unsettled.delete(eventId)
        return true
      }
    }
    return false
  }

  private onRejected(e: EventEnvelope): void {
    const { eventId, code, reason } = e.data as { eventId: string; code: string; reason: string }
    const pending = this.pending.get(eventId)
    if (!pending) return
    this.pending.delete(eventId)
    pending.cancel()
    pending.reject(new ProposalRejectedError(this.id, eventId, code, reason))
  }

  private propose(event: NewEvent): Promise<EventEnvelope> {
    const waitMs = this.oneStatics.proposalTimeoutMs ?? 30_000
    // A Fire sent again with the same id (after a timeout or a rejection) whose event this
    // instance has already applied is answered at once.
    const stored = this.recent.get(event.id)
    if (stored) return Promise.resolve(stored)
    return new Promise<EventEnvelope>((resolve, reject) => {
      let unwatch: (() => void) | undefined
      const timer = this.container.clock.setTimeout(() => {
        if (this.pending.delete(event.id)) {
          unwatch?.()
          reject(new ProposalTimeoutError(this.id, event.id, waitMs))
        }
      }, waitMs)
      this.pending.set(event.id, { resolve, reject, cancel: () => (timer.cancel(), unwatch?.()) })
      const fail = (err: Error) => {
        if (this.pending.delete(event.id)) {
          timer.cancel()
          unwatch?.()
          reject(err)
        }
      }
      const shard = this.shard
      // Sharded: one proposal stream per shard, so the proposal names its actor; rejections come
      // through the region's one feed per shard, readied before the proposal is sent.
      const data = shard ? { actorId: this.id, event } : { event }
      const send = (id: string) => this.container.store.append(this.proposalStream, [{ id, name: 'proposed', data, schemaVersion: 1, at: event.at, meta: event.meta }], { expectedVersion: 'any' })
      const watched = shard
        ? shard.region.awaitRejection(shard.index, event.id, (e) => this.onRejected(e)).then((stop) => {
            if (this.pending.has(event.id)) unwatch = stop
            else stop()
          })
        : Promise.resolve()
      watched
        .then(() => send(`proposal/${event.id}`))
        // Proposed before: that proposal was answered (or is being handled) already, and an
        // id already stored is not delivered again. A proposal of its own makes the leader
        // handle it again; a stored event is then recognised, never applied twice.
        .then((result) => (result.alreadyStored ? send(`proposal/${event.id}/${this.container.ids()}`) : result))
        .catch(fail)
    })
  }
}

reserveFrameworkMembers(OneActor.prototype)

/**
 * Makes this process a host of a sharded OneActor class at once (it joins the membership and
 * takes its share of the shards), without waiting for the first actor of the class to load
 * here. Resolves with the class's region in the container, which says which shards this
 * process leads (`Shards`) and reports changes (`onChange`). The container's `close()` hands
 * the shards over and leaves.
 *
 * @example
 * const region = hostShards(container, Stock)
 * region.onChange(({ shard, term }) => console.log(`shard ${shard}: ${term ? `leading, term ${term}` : 'handed over'}`))
 */
export function hostShards(container: Container, actorClass: abstract new (id: string, container: Container) => ShardedActor): ShardRegion {
  const statics = actorClass as unknown as OneActorStatics & { actorType?: string; name: string }
  if (!statics.sharded) throw new TypeError(`${statics.name} is not sharded (static sharded = true)`)
  const actorType = statics.actorType ?? statics.name
  const region = regionOf(container, actorClass as unknown as ShardedClass, actorType, shardTiming(statics, actorType))
  region.start()
  return region
}
