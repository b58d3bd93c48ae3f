import { unrefTimer, type Clock } from './Clock.js'
import { observeGauges, passivationsMeasured } from './telemetry/metrics.js'

/** What the registry needs of an actor; every actor kind fits. */
export interface RegistrableActor {
  Load(): Promise<unknown>
  Stop(): Promise<void>
}

/** Options of the registry, given to `createContainer({ actors })`. */
export interface ActorRegistryOptions {
  /** An actor not asked for during this long is passivated (stopped and forgotten). Default 5 min. */
  readonly idleMs?: number
  /** At most this many actors stay loaded; the least recently asked for goes first. Default 10,000. */
  readonly maxActive?: number
}

interface Entry {
  readonly actor: Promise<RegistrableActor>
  lastUsed: number
}

/**
 * What the registry needs of the container it belongs to: a place to report a failed
 * passivation. The registry is generic over the container (`ActorRegistry<Container>`), so
 * that it need not import Container, which imports it.
 */
export interface RegistryOwner {
  readonly report: (err: unknown, context: { where: string }) => void
}

type ActorConstructor<A extends RegistrableActor, C> = new (id: string, container: C) => A

/**
 * One loaded, live instance per actor class and id in this process (an object pool), so that
 * every caller shares the same state and live subscription. Idle actors are passivated, so a
 * service that touches a million ids keeps only the recent ones in memory.
 *
 * @example
 * const cart = await container.actors.get(Cart, 'cart-42') // loaded (and following, if live)
 * await cart.Add('apple', 1)
 */
export class ActorRegistry<C extends RegistryOwner = RegistryOwner> {
  private readonly entries = new Map<ActorConstructor<RegistrableActor, C>, Map<string, Entry>>()
  private count = 0
  private readonly idleMs: number
  private readonly maxActive: number
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly container: () => C,
    private readonly clock: Clock,
    options: ActorRegistryOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 5 * 60_000
    this.maxActive = options.maxActive ?? 10_000
    observeGauges(this, (registry, observe) => observe('omniscient.actors.resident', registry.size))
  }

  /** The instance of `actorClass` for `id`, loaded once; concurrent calls share one Load. */
  get<A extends RegistrableActor>(actorClass: ActorConstructor<A, C>, id: string): Promise<A> {
    let byId = this.entries.get(actorClass)
    if (!byId) this.entries.set(actorClass, (byId = new Map<string, Entry>()))
    const now = this.clock.now()
    const found = byId.get(id)
    if (found) {
      // Re-inserting keeps each map in least-recently-used order.
      byId.delete(id)
      byId.set(id, found)
      found.lastUsed = now
      return found.actor as Promise<A>
    }
    const actor = new actorClass(id, this.container()).Load().then(
      (loaded) => loaded as A,
      (err: unknown) => {
        // A failed Load is not cached: the next get tries again.
        if (byId.get(id) === entry) this.forget(byId, id)
        throw err
      },
    )
    const entry: Entry = { actor, lastUsed: now }
    byId.set(id, entry)
    this.count++
    this.startSweeping()
    if (this.count > this.maxActive) void this.evictLeastRecent()
    return actor
  }

  /** How many actors are loaded (or loading). */
  get size(): number {
    return this.count
  }

  /** Passivates every actor idle for `idleMs` or more. Runs by itself; callable in tests. */
  async sweep(): Promise<void> {
    const cutoff = this.clock.now() - this.idleMs
    const idle: Promise<void>[] = []
    for (const byId of this.entries.values()) {
      for (const [id, entry] of byId) if (entry.lastUsed <= cutoff) idle.push(this.passivate(byId, id))
    }
    passivationsMeasured(idle.length)
    await Promise.all(idle)
  }

  /** Stops every actor and forgets them all. */
  async stopAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = undefined
    const all: Promise<void>[] = []
    for (const byId of this.entries.values()) for (const id of [...byId.keys()]) all.push(this.passivate(byId, id))
    await Promise.all(all)
  }

  private async evictLeastRecent(): Promise<void> {
    let oldest: { byId: Map<string, Entry>; id: string; lastUsed: number } | undefined
    for (const byId of this.entries.values()) {
      const first = byId.entries().next()
      if (!first.done && (!oldest || first.value[1].lastUsed < oldest.lastUsed)) {
        oldest = { byId, id: first.value[0], lastUsed: first.value[1].lastUsed }
      }
    }
    if (!oldest) return
    passivationsMeasured(1)
    await this.passivate(oldest.byId, oldest.id)
  }

  private async passivate(byId: Map<string, Entry>, id: string): Promise<void> {
    const entry = byId.get(id)
    if (!entry) return
    this.forget(byId, id)
    try {
      await (await entry.actor).Stop()
    } catch (err) {
      this.container().report(err, { where: `passivating "${id}"` })
    }
  }

  private forget(byId: Map<string, Entry>, id: string): void {
    if (byId.delete(id)) this.count--
  }

  private startSweeping(): void {
    if (this.sweeper) return
    // Unref'd: an idle registry never keeps a process alive.
    this.sweeper = setInterval(() => void this.sweep(), Math.max(1_000, this.idleMs / 2))
    unrefTimer(this.sweeper)
  }
}
