import type { Container } from '../lib/Container.js'
import type { EventEnvelope } from '../lib/envelope.js'
import { LeaseLostError } from '../lib/errors.js'
import { instanceLabel } from '../lib/ids.js'
import { LeaseKeeper, isStoreClosed, type FollowReason } from '../lib/leases/LeaseKeeper.js'
import { startListener, type Listener } from '../lib/listeners/Listener.js'
import { derivedName } from './derivedNames.js'
import type { LeaseState } from '../lib/store/StorageAdapter.js'
import type { Subscription } from '../lib/store/Subscription.js'
import { placeShards } from '../lib/shards/placement.js'
import { shardOf } from '../lib/shards/shardOf.js'

/** What a region needs of the actors it places (OneActor, with `static sharded = true`). */
export interface ShardedActor {
  readonly id: string
  Load(): Promise<unknown>
  Stop(): Promise<void>
  /** Resolves once the actor's queued commands have run. */
  Idle(): Promise<void>
  /** Handles a proposal of the shard's proposal stream addressed to this actor. */
  handleShardProposal(proposal: EventEnvelope): Promise<void>
  /** This process now leads the actor's shard. */
  shardLeading(): void
  /** This process no longer leads the actor's shard. */
  shardFollowing(): void
}

export type ShardedClass = new (id: string, container: Container) => ShardedActor

/** The timing and size of a region: the statics of its class, with their defaults applied. */
export interface ShardTiming {
  readonly shards: number
  readonly leaseMs: number
  readonly renewEveryMs: number
  /** A shard's owner stops leading it at `t + leaseMs - marginMs`, `t` the start of its last renewal. Default: LeaseKeeper's. */
  readonly marginMs?: number
  /** The most processes that may host the class at once (membership slots). */
  readonly hosts: number
}

/** A change of leadership of one shard in this process (for logs, specs and benches). */
export interface ShardChange {
  readonly shard: number
  /** The term it now leads under; 0 when it stopped leading. */
  readonly term: number
  /** Why it stopped leading: placed elsewhere, its lease expired here, a write or renewal was refused, or the store closed. */
  readonly reason?: 'handed over' | FollowReason
}

interface Held {
  readonly term: number
  readonly keeper: LeaseKeeper
  listener: Listener | undefined
  /** Handing the shard over: no new work, in-flight work finishes under the term, then release. */
  releasing: boolean
}

let regions = 0

/**
 * The shards of one sharded OneActor class in one container (process): its membership, the
 * leases of the shards it owns, one proposal listener per owned shard, and the actors of those
 * shards that are loaded here.
 *
 * Every `renewEveryMs` one round: renew the owned shards' leases, then this process's
 * membership slot (after the shards, so a dead process's slot expires after its shards'
 * leases do), read every slot, place the shards over the live members (`placeShards`: the
 * same answer everywhere), take the free shards placed here, and hand over the owned ones
 * placed elsewhere (stop taking work, finish what is in flight under the term, release).
 * No process talks to another: the store is the only meeting point.
 *
 * Each lease (a shard's, the membership slot's) is a `LeaseKeeper` this round drives, so a
 * shard's leadership expires here at `t + leaseMs - marginMs` (`t` the start of its last
 * renewal) whatever the store calls are doing.
 */
export class ShardRegion {
  /** This region's identity in its membership slot and in the shard leases. */
  readonly owner = `${instanceLabel()}:shards:${++regions}:${Math.random().toString(36).slice(2, 8)}`
  private readonly held = new Map<number, Held>()
  private readonly resident = new Map<number, Set<ShardedActor>>()
  private readonly handOvers = new Set<Promise<void>>()
  private readonly rejectionFeeds = new Map<number, Promise<Subscription>>()
  private readonly rejectionWaiters = new Map<string, (rejection: EventEnvelope) => void>()
  private readonly observers = new Set<(change: ShardChange) => void>()
  private readonly keepers = new Map<number, LeaseKeeper>()
  private slot: LeaseKeeper | undefined
  private members: readonly string[] = []
  private started = false
  private stopped = false
  private timer: { cancel(): void } | undefined
  private running: Promise<void> = Promise.resolve()
  private slotsFullReported = false
  private unregisterClose: (() => void) | undefined

  constructor(
    private readonly container: Container,
    private readonly actorClass: ShardedClass,
    readonly actorType: string,
    readonly timing: ShardTiming,
  ) {}

  /** Joins the membership and starts the rounds (once). */
  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    this.unregisterClose = this.container.onClose(() => this.stop())
    void this.loop()
  }

  /** The shard of an actor id. */
  shardOf(id: string): number {
    return shardOf(id, this.timing.shards)
  }

  /** The shards this process leads now, in order. */
  get Shards(): number[] {
    return [...this.held.keys()].filter((shard) => this.leads(shard)).sort((a, b) => a - b)
  }

  /** The live members as of the last round (their owner strings, sorted). */
  get Members(): readonly string[] {
    return this.members
  }

  /** Whether this process leads `shard` and takes new work for it. */
  leads(shard: number): boolean {
    const held = this.held.get(shard)
    return held !== undefined && !held.releasing && held.keeper.isLeading()
  }

  /**
   * The term to stamp on a commit of an actor of `shard`: the shard's term while this process
   * holds it (while handing it over too: work already under way finishes under it), 0 otherwise.
   */
  termOf(shard: number): number {
    const held = this.held.get(shard)
    return held !== undefined && held.keeper.term === held.term ? held.term : 0
  }

  /**
   * Fences an append of an actor of `shard` stamped with `term`, right before it is sent:
   * throws LeaseLostError once that term is over here, its local expiry included (the shard
   * then follows here at once).
   */
  fence(shard: number, term: number): void {
    const held = this.held.get(shard)
    if (held?.term === term && held.keeper.fence().term === term) return
    throw new LeaseLostError(this.leaseName(shard), term, this.termOf(shard))
  }

  /** Calls `observer` on each change of leadership of a shard here; returns the unsubscribe. */
  onChange(observer: (change: ShardChange) => void): () => void {
    this.observers.add(observer)
    return () => void this.observers.delete(observer)
  }

  /** The lease that fences the appends of every actor of `shard`. */
  leaseName(shard: number): string {
    return derivedName(this.container.store, 'shard', this.actorType, String(shard))
  }

  /** The stream where Fires of other processes wait for the shard's owner. */
  proposalStream(shard: number): string {
    return derivedName(this.container.store, '__proposals', this.actorType, `#${shard}`)
  }

  private checkpointName(shard: number): string {
    return derivedName(this.container.store, '__proposals', this.actorType, `#${shard}`, '/handled')
  }

  private slotName(index: number): string {
    return derivedName(this.container.store, 'member', this.actorType, String(index))
  }

  /** A loaded actor joins its shard here: it leads with the shard. */
  attach(actor: ShardedActor): void {
    const shard = this.shardOf(actor.id)
    let set = this.resident.get(shard)
    if (!set) this.resident.set(shard, (set = new Set()))
    set.add(actor)
    this.start()
    if (this.leads(shard)) actor.shardLeading()
  }

  /** A stopped (passivated) actor leaves its shard. */
  detach(actor: ShardedActor): void {
    const shard = this.shardOf(actor.id)
    const set = this.resident.get(shard)
    if (!set?.delete(actor)) return
    if (set.size === 0) this.resident.delete(shard)
    if (this.leads(shard)) actor.shardFollowing()
  }

  /** A write under `term` of `shard` was refused (fencing): the term is over here. */
  lost(shard: number, term: number): void {
    this.held.get(shard)?.keeper.lost(term)
  }

  /**
   * Readies the feed of rejections of `shard`'s proposals (before a proposal is sent, so its
   * rejection cannot come before the feed starts) and registers `onRejected` for `eventId`;
   * resolves with the function that unregisters it.
   */
  async awaitRejection(shard: number, eventId: string, onRejected: (rejection: EventEnvelope) => void): Promise<() => void> {
    let feed = this.rejectionFeeds.get(shard)
    if (!feed) {
      const { store } = this.container
      feed = store.headPosition().then((head) =>
        store.subscribe({ streamId: this.proposalStream(shard), names: ['rejected'], fromPosition: head + 1 }, (e) => {
          const { eventId: rejected } = e.data as { eventId: string }
          this.rejectionWaiters.get(rejected)?.(e)
        }),
      )
      this.rejectionFeeds.set(shard, feed)
      feed.catch(() => this.rejectionFeeds.delete(shard))
    }
    await feed
    this.rejectionWaiters.set(eventId, onRejected)
    return () => {
      if (this.rejectionWaiters.get(eventId) === onRejected) this.rejectionWaiters.delete(eventId)
    }
  }

  /** Hands every owned shard over, leaves the membership and stops. Run when the container closes. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.unregisterClose?.()
    this.timer?.cancel()
    await this.running
    for (const [shard, held] of this.held) if (!held.releasing) this.handOver(shard, held)
    await Promise.all(this.handOvers)
    // Keepers that tried for a shard and did not get it hold nothing; release is then a no-op.
    await Promise.all([...this.keepers.values()].map((keeper) => keeper.release()))
    this.keepers.clear()
    const slot = this.slot
    this.slot = undefined
    await slot?.release()
    const feeds = [...this.rejectionFeeds.values()]
    this.rejectionFeeds.clear()
    await Promise.all(feeds.map((feed) => feed.then((sub) => sub.close(), () => undefined)))
    forgetRegion(this.container, this.actorClass, this)
  }

  private async loop(): Promise<void> {
    if (this.stopped) return
    this.running = this.round().catch((err: unknown) => {
      // The container closed the store under the region: nothing more to do.
      if (isStoreClosed(err)) this.stopped = true
      else this.report(err, 'round')
    })
    await this.running
    if (!this.stopped) this.timer = this.container.clock.setTimeout(() => void this.loop(), this.timing.renewEveryMs)
  }

  private async round(): Promise<void> {
    const { store, clock } = this.container
    const { hosts, shards } = this.timing
    // 1. The shards held: renewed first (see the class comment). A renewal refused or too
    //    late ends the shard's term through its keeper (onFollowing).
    await Promise.all(
      [...this.held.values()].map(async (held) => {
        if (!held.releasing) await held.keeper.renew().catch((err: unknown) => this.report(err, `renewal of ${held.keeper.name}`))
      }),
    )
    // 2. The membership slot.
    if (this.slot && !(await this.slot.renew().catch((err: unknown) => (this.report(err, 'renewal of its membership'), true)))) this.slot = undefined
    // 3. Every slot, for the live members (a failed read changes nothing this round).
    const slots: Array<LeaseState | undefined> = await Promise.all(Array.from({ length: hosts }, (_, i) => store.readLease(this.slotName(i))))
    if (!this.slot && !this.stopped) await this.join(slots)
    const now = clock.now()
    const members = slots.filter((s): s is LeaseState => s !== undefined && s.expiresAt > now).map((s) => s.holder)
    this.members = [...members].sort()
    if (this.stopped) return
    // 4. Placement: take what is placed here, hand over what is placed elsewhere.
    const owners = placeShards(members, shards)
    const wanted: number[] = []
    for (let shard = 0; shard < shards; shard++) {
      const held = this.held.get(shard)
      if (owners[shard] === this.owner) {
        if (!held) wanted.push(shard)
      } else {
        if (held && !held.releasing) this.handOver(shard, held)
        // A keeper that only tried: nothing to release, nothing to keep.
        if (!held) this.keepers.delete(shard)
      }
    }
    await Promise.all(wanted.map((shard) => this.keeperOf(shard).acquire().catch((err: unknown) => (this.report(err, `acquisition of shard ${shard}`), false))))
  }

  private keeperOf(shard: number): LeaseKeeper {
    let keeper = this.keepers.get(shard)
    if (!keeper) {
      const { leaseMs, renewEveryMs, marginMs } = this.timing
      keeper = new LeaseKeeper(this.container, this.leaseName(shard), this.owner, { leaseMs, renewEveryMs, ...(marginMs === undefined ? {} : { marginMs }) }, {
        onLeading: (term) => {
          if (this.stopped) return
          this.gain(shard, term, keeper!)
        },
        onFollowing: (term, reason) => this.ended(shard, term, reason),
      })
      this.keepers.set(shard, keeper)
    }
    return keeper
  }

  /** Takes the first free membership slot (by this process's clock). */
  private async join(slots: Array<LeaseState | undefined>): Promise<void> {
    const { clock } = this.container
    const { leaseMs, renewEveryMs, marginMs } = this.timing
    for (let i = 0; i < slots.length; i++) {
      const seen = slots[i]
      if (seen && seen.expiresAt > clock.now() && seen.holder !== this.owner) continue
      const keeper = new LeaseKeeper(this.container, this.slotName(i), this.owner, { leaseMs, renewEveryMs, ...(marginMs === undefined ? {} : { marginMs }) })
      if (await keeper.acquire()) {
        this.slot = keeper
        slots[i] = await this.container.store.readLease(this.slotName(i))
        this.slotsFullReported = false
        return
      }
    }
    if (!this.slotsFullReported) {
      this.slotsFullReported = true
      this.report(new Error(`all ${slots.length} membership slots of ${this.actorType} are taken: this process hosts none of its shards (raise static shardHosts)`), 'membership')
    }
  }

  private gain(shard: number, term: number, keeper: LeaseKeeper): void {
    const held: Held = { term, keeper, listener: undefined, releasing: false }
    this.held.set(shard, held)
    // The proposals the previous owner did not finish are this owner's: the checkpoint is
    // shared, and event ids make a proposal handled twice stored once.
    held.listener = startListener(
      this.container.store,
      this.proposalStream(shard),
      { durable: this.checkpointName(shard), from: 'start' },
      (proposal) => this.handle(shard, held, proposal),
      (err, event) => {
        if (!(err instanceof LeaseLostError)) this.container.report(err, { ...(event ? { event } : {}), where: `proposals of ${this.actorType} shard ${shard}` })
      },
    )
    for (const actor of this.resident.get(shard) ?? []) actor.shardLeading()
    this.emit({ shard, term })
  }

  private async handle(shard: number, held: Held, proposal: EventEnvelope): Promise<void> {
    if (proposal.name !== 'proposed') return
    // Handed over or lost: the next owner handles it (thrown, so the checkpoint stays before it).
    if (this.held.get(shard) !== held || held.releasing) throw new LeaseLostError(this.leaseName(shard), held.term, 0)
    const { actorId } = proposal.data as { actorId: string }
    // Activation on demand: loaded here if it is not (the registry passivates idle ones).
    const actor = await this.container.actors.get(this.actorClass, actorId)
    await actor.handleShardProposal(proposal)
  }

  /** The shard's term is over here (expired, refused, released): its listener stops. */
  private ended(shard: number, term: number, reason: FollowReason): void {
    const held = this.held.get(shard)
    if (!held || held.term !== term) return
    this.held.delete(shard)
    // Not awaited: the end may be noticed inside a proposal handler, which close() waits for.
    void held.listener?.close()
    if (!held.releasing) this.following(shard, reason)
  }

  private following(shard: number, reason: ShardChange['reason']): void {
    for (const actor of this.resident.get(shard) ?? []) actor.shardFollowing()
    this.emit({ shard, term: 0, ...(reason ? { reason } : {}) })
  }

  /** Graceful hand-over: no new work, in-flight work finishes under the term, then release. */
  private handOver(shard: number, held: Held): void {
    held.releasing = true
    this.following(shard, 'handed over')
    const done = (async () => {
      await held.listener?.close()
      await Promise.all([...(this.resident.get(shard) ?? [])].map((actor) => actor.Idle().catch(() => undefined)))
      await held.keeper.release()
      if (this.keepers.get(shard) === held.keeper) this.keepers.delete(shard)
    })()
    this.handOvers.add(done)
    void done.finally(() => this.handOvers.delete(done))
  }

  private emit(change: ShardChange): void {
    for (const observer of this.observers) {
      try {
        observer(change)
      } catch (err) {
        this.report(err, 'shard change observer')
      }
    }
  }

  private report(err: unknown, what: string): void {
    this.container.report(err, { where: `${what} of the shards of ${this.actorType}` })
  }
}

const byContainer = new WeakMap<Container, Map<ShardedClass, ShardRegion>>()

/** The region of `actorClass` in `container`, made (not started) on first use. */
export function regionOf(container: Container, actorClass: ShardedClass, actorType: string, timing: ShardTiming): ShardRegion {
  let regions = byContainer.get(container)
  if (!regions) byContainer.set(container, (regions = new Map<ShardedClass, ShardRegion>()))
  let region = regions.get(actorClass)
  if (!region) regions.set(actorClass, (region = new ShardRegion(container, actorClass, actorType, timing)))
  return region
}

function forgetRegion(container: Container, actorClass: ShardedClass, region: ShardRegion): void {
  const regions = byContainer.get(container)
  if (regions?.get(actorClass) === region) regions.delete(actorClass)
}
