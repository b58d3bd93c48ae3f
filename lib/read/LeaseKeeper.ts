import { LeaseLostError, isOmniscientError } from '../errors.js'
import type { Container } from '../Container.js'

/** Timing of a lease: how long it lasts unrenewed, and how often it is renewed or tried. */
export interface LeaseTiming {
  readonly leaseMs: number
  readonly renewEveryMs: number
}

/**
 * Takes part in the election for one lease, as OneActor does: renews it while held, tries to
 * take it every `renewEveryMs` while another holds it, and reports each change. The term it
 * holds is what the runner fences its writes with; a write refused with `LeaseLostError`
 * ends the term at once (`lost()`), without waiting for the next renewal.
 */
export class LeaseKeeper {
  private term = 0
  private stopped = false
  private timer: { cancel(): void } | undefined
  private round: Promise<void> = Promise.resolve()

  constructor(
    private readonly container: Container,
    readonly name: string,
    readonly owner: string,
    private readonly timing: LeaseTiming,
    private readonly on: { gained(term: number): void; lost(): void },
  ) {}

  start(): void {
    this.stopped = false
    void this.elect()
  }

  /** Leaves the election and gives the lease up, so another process takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    await this.round
    const term = this.term
    if (term > 0) {
      this.lost()
      await this.container.store.releaseLease(this.name, this.owner, term, this.container.clock.now()).catch((err: unknown) => this.container.report(err, { where: `release of lease "${this.name}"` }))
    }
  }

  /** Called by the runner when a fenced write was refused: the term is over. */
  lost(): void {
    if (this.term === 0) return
    this.term = 0
    this.on.lost()
  }

  private async elect(): Promise<void> {
    const { store, clock } = this.container
    this.round = (async () => {
      try {
        if (this.term > 0) {
          await store.renewLease(this.name, this.owner, this.term, this.timing.leaseMs, clock.now())
        } else {
          const lease = await store.acquireLease(this.name, this.owner, this.timing.leaseMs, clock.now())
          if (lease.holder === this.owner && !this.stopped) {
            this.term = lease.term
            this.on.gained(lease.term)
          }
        }
      } catch (err) {
        if (err instanceof LeaseLostError) this.lost()
        else if (isStoreClosed(err)) this.stopped = true
        else this.container.report(err, { where: `election for lease "${this.name}"` })
      }
    })()
    await this.round
    if (!this.stopped) this.timer = clock.setTimeout(() => void this.elect(), this.timing.renewEveryMs)
  }
}

/** The container was closed under a running read model or projection: nothing more to do. */
export function isStoreClosed(err: unknown): boolean {
  return isOmniscientError(err) && err.code === 'STORE_CLOSED'
}
