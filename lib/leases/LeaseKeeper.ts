/**
 * LeaseKeeper: holds one named lease of the store for one owner, and knows by its own clock
 * when it no longer leads. OneActor, TickActor and the read side's runners each keep one;
 * a process that leads many leases (shards) keeps one per lease.
 *
 *   const keeper = new LeaseKeeper(container, 'one/Stock/sku-1', owner, { leaseMs: 2_000 }, {
 *     onLeading: (term) => ...,            // this process leads under `term` from now
 *     onFollowing: (term, reason) => ...,  // it stopped leading `term`: 'expired' | 'lost' | 'released' | 'closed'
 *   })
 *   await keeper.start()       // the election loop: a round every renewEveryMs (or as soon as a slower one
 *                              // answers), renewing while leading, else trying to acquire
 *                              // (resolves after the first round)
 *   await keeper.stop()        // leave it: stop the loop, release the lease if held (onFollowing runs first)
 *   await keeper.acquire()     // one try to take it (true: leading now); for a caller that drives its own loop
 *   await keeper.renew()       // one renewal (true: still leading)
 *   await keeper.release()     // give it up at once (onFollowing runs), staying in the loop if started
 *   keeper.lost(term)          // a write fenced with `term` was refused (LeaseLostError): follow at once
 *   keeper.term                // the term held, 0 when following (or expired here)
 *   keeper.holding             // true from onLeading until onFollowing (isLeading(now) may be false already)
 *   keeper.isLeading(now?)     // leading at `now` (default the clock's now): term > 0 and now < expiresAt
 *   keeper.expiresAt           // when this process stops believing it leads, by its own clock
 *   keeper.fence()             // { name, term } for an append's `lease`; throws LeaseLostError, calling
 *                              // nothing, once the lease has expired here (and follows at once)
 *
 * The rule: an acquire or renewal that *started* at `t` (by the container's clock; `t` is also
 * the `now` the store computes the expiry from, `t + leaseMs`) keeps this process leading until
 * `t + leaseMs - marginMs`, whatever its store calls are doing meanwhile. At that instant
 * (a timer, and any `isLeading`/`fence` after it) `onFollowing(term, 'expired')` runs. A renewal
 * that succeeds after that instant does not bring the lease back: only a fresh acquire does.
 * Another process can take the lease at `t + leaseMs` by its clock, so two processes believe
 * they lead at once only when their clocks differ by more than `marginMs`, and then for at
 * most the difference minus `marginMs`; the store's term check (fencing) stays the safety net.
 */
import type { Container } from '../Container.js'
import { LeaseLostError, isStoreClosedError } from '../errors.js'
import type { LeaseState } from '../store/StorageAdapter.js'
import { leaseMeasured } from '../telemetry/metrics.js'

/** Timing of a lease. */
export interface LeaseTiming {
  /** How long the lease lasts at the store without renewal, in ms. */
  readonly leaseMs: number
  /** How often it is renewed, or tried while another holds it, in ms. Default leaseMs / 4 (at least 50). */
  readonly renewEveryMs?: number
  /**
   * How long before the store's expiry the holder stops believing it leads, in ms: the clock
   * difference between processes this tolerates without two leaders. Default leaseMs / 10.
   */
  readonly marginMs?: number
}

/** Why a keeper stopped leading. */
export type FollowReason = 'expired' | 'lost' | 'released' | 'closed'

/** What a keeper tells its user. Both run synchronously, inside the keeper's own step. */
export interface LeaseCallbacks {
  onLeading?(term: number): void
  onFollowing?(term: number, reason: FollowReason): void
}

/** What a keeper needs of the container. */
export type LeaseKeeperContainer = Pick<Container, 'store' | 'clock' | 'report'>

/** The defaults of `LeaseTiming`, filled in; throws TypeError when the timing cannot keep a lease. */
export function leaseTiming(name: string, timing: LeaseTiming): Required<LeaseTiming> {
  const { leaseMs } = timing
  const renewEveryMs = timing.renewEveryMs ?? Math.max(50, Math.floor(leaseMs / 4))
  const marginMs = timing.marginMs ?? Math.floor(leaseMs / 10)
  if (!(leaseMs > 0) || !(renewEveryMs > 0) || !(marginMs >= 0)) {
    throw new TypeError(`lease "${name}": leaseMs and renewEveryMs must be positive and marginMs at least 0 (got ${leaseMs}, ${renewEveryMs}, ${marginMs})`)
  }
  if (renewEveryMs >= leaseMs - marginMs) {
    throw new TypeError(`lease "${name}": renewEveryMs (${renewEveryMs}) must be shorter than leaseMs - marginMs (${leaseMs} - ${marginMs}), or leadership lapses between renewals`)
  }
  return { leaseMs, renewEveryMs, marginMs }
}

/** See the top of this file. */
export class LeaseKeeper {
  readonly timing: Required<LeaseTiming>
  private held = 0
  private until = 0
  // The term the store last said this owner holds, led or not: what stop() releases.
  private claimed = 0
  private expiry: { cancel(): void } | undefined
  private loop: { cancel(): void } | undefined
  private running = false
  // Set while stop() waits for the call in flight: an acquire that lands then does not lead.
  private stopping = false
  private round: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly container: LeaseKeeperContainer,
    readonly name: string,
    readonly owner: string,
    timing: LeaseTiming,
    private readonly callbacks: LeaseCallbacks = {},
  ) {
    this.timing = leaseTiming(name, timing)
  }

  /** The term held, 0 when following (also 0 once expired here, even before the timer ran). */
  get term(): number {
    return this.isLeading() ? this.held : 0
  }

  /** True from onLeading until onFollowing has run: a term not given up yet, even if past its expiry. */
  get holding(): boolean {
    return this.held > 0
  }

  /** When this process stops believing it leads, by its clock (0 when following). */
  get expiresAt(): number {
    return this.held > 0 ? this.until : 0
  }

  isLeading(now = this.container.clock.now()): boolean {
    return this.held > 0 && now < this.until
  }

  /** The lease to fence an append with; throws LeaseLostError (and follows) once it expired here. */
  fence(): { name: string; term: number } {
    const term = this.held
    if (term > 0 && this.isLeading()) return { name: this.name, term }
    const until = this.until
    if (term > 0) this.follow('expired')
    throw new LeaseLostError(this.name, term, 0, term > 0 ? until : undefined)
  }

  /** Joins the election: renews every `renewEveryMs` while leading, tries to acquire otherwise. Resolves after the first round. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    await this.cycle()
  }

  /** Leaves the election and gives the lease up, so another process takes over at once. */
  async stop(): Promise<void> {
    this.running = false
    this.stopping = true
    this.loop?.cancel()
    this.loop = undefined
    try {
      await this.round
      await this.release()
    } finally {
      this.stopping = false
    }
  }

  /** One try to take the lease; resolves true when this process leads afterwards. */
  acquire(): Promise<boolean> {
    return this.call(async () => {
      if (this.isLeading()) return true
      if (this.held > 0) this.follow('expired')
      const started = this.container.clock.now()
      const lease = await this.container.store.acquireLease(this.name, this.owner, this.timing.leaseMs, started)
      if (lease.holder !== this.owner) return false
      this.claimed = lease.term
      // The store may answer after the time it would have given: then it is not led at all.
      if (this.stopping || !this.extend(lease, started)) return false
      this.held = lease.term
      this.armExpiry()
      leaseMeasured(this.name, this.owner, true)
      try {
        this.callbacks.onLeading?.(lease.term)
      } catch (err) {
        this.container.report(err, { where: `onLeading of lease "${this.name}"` })
      }
      return this.isLeading()
    })
  }

  /** One renewal; resolves true when this process still leads afterwards. */
  renew(): Promise<boolean> {
    return this.call(async () => {
      const term = this.held
      if (term === 0) return false
      if (!this.isLeading()) {
        this.follow('expired')
        return false
      }
      const started = this.container.clock.now()
      try {
        const lease = await this.container.store.renewLease(this.name, this.owner, term, this.timing.leaseMs, started)
        // Expired here meanwhile (or lost, or released): only a fresh acquire leads again.
        if (this.held !== term) return false
        if (!this.isLeading()) {
          this.follow('expired')
          return false
        }
        this.extend(lease, started)
        this.armExpiry()
        return true
      } catch (err) {
        if (err instanceof LeaseLostError) {
          if (this.claimed === term) this.claimed = 0
          this.lost(term)
          return false
        }
        throw err
      }
    })
  }

  /** Gives the lease up at once, if the store still has this owner holding it. */
  async release(): Promise<void> {
    const term = this.claimed
    if (this.held > 0) this.follow('released')
    if (term === 0) return
    this.claimed = 0
    await this.container.store
      .releaseLease(this.name, this.owner, term, this.container.clock.now())
      .catch((err: unknown) => this.container.report(err, { where: `release of lease "${this.name}"` }))
  }

  /** A write fenced with `term` was refused: that term is over here at once. A newer term is kept. */
  lost(term: number = this.held): void {
    if (this.held > 0 && this.held === term) this.follow('lost')
  }

  /** Sets `until` from an answer to a call that started at `started`; false when that is already past. */
  private extend(lease: LeaseState, started: number): boolean {
    const until = Math.min(started + this.timing.leaseMs, lease.expiresAt) - this.timing.marginMs
    if (until <= this.container.clock.now()) return false
    this.until = Math.max(this.held === lease.term ? this.until : 0, until)
    return true
  }

  private armExpiry(): void {
    this.expiry?.cancel()
    const term = this.held
    this.expiry = this.container.clock.setTimeout(() => {
      this.expiry = undefined
      // A late timer, or one that a renewal made early: look at the clock again.
      if (this.held === term && !this.isLeading()) this.follow('expired')
      else if (this.held === term) this.armExpiry()
    }, this.until - this.container.clock.now())
  }

  private follow(reason: FollowReason): void {
    const term = this.held
    if (term === 0) return
    this.held = 0
    this.until = 0
    this.expiry?.cancel()
    this.expiry = undefined
    leaseMeasured(this.name, this.owner, false, reason)
    try {
      this.callbacks.onFollowing?.(term, reason)
    } catch (err) {
      this.container.report(err, { where: `onFollowing of lease "${this.name}"` })
    }
  }

  /** Runs store calls one at a time; a closed store ends the election, other failures are thrown. */
  private call(fn: () => Promise<boolean>): Promise<boolean> {
    const next = this.round.then(fn, fn)
    this.round = next.catch(() => undefined)
    return next.catch((err: unknown) => {
      if (!isStoreClosed(err)) throw err
      this.running = false
      this.follow('closed')
      return false
    })
  }

  private async cycle(): Promise<void> {
    if (!this.running) return
    const started = this.container.clock.now()
    try {
      await (this.held > 0 ? this.renew() : this.acquire())
    } catch (err) {
      this.container.report(err, { where: `election for lease "${this.name}"` })
    }
    // Rounds start every renewEveryMs, not renewEveryMs after the last answer: a slow store
    // that does answer must not make the leadership lapse between renewals.
    const wait = Math.max(0, started + this.timing.renewEveryMs - this.container.clock.now())
    if (this.running) this.loop = this.container.clock.setTimeout(() => void this.cycle(), wait)
  }
}

/** The store was closed under a lease holder, a read model or a projection: nothing more to do. */
export function isStoreClosed(err: unknown): boolean {
  return isStoreClosedError(err)
}
