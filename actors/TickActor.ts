import { z } from 'zod'
import { LeaseLostError, type AnyEventCatalog, type AppliedEvent, type Container, type EventEnvelope, type NewEvent } from '../lib/index.js'
import { reserveFrameworkMembers } from './Actor.js'
import { OneActor } from './OneActor.js'

/** The `tick` event: spread it into a TickActor's catalog (`defineEvents({ ...tickEvents, ... })`). */
export const tickEvents = {
  tick: z.object({
    /** 1, 2, 3... without gaps. */
    tick: z.number().int().positive(),
    /** When the tick was due (ms since the epoch). */
    scheduledAt: z.number(),
    /** When the leader actually fired it; never before `scheduledAt`. */
    firedAt: z.number(),
  }),
}

/** What a `tick` handler receives. */
export type TickData = z.output<(typeof tickEvents)['tick']>

// How many events a Load reads back at a time to find the last tick a snapshot hides.
const LOOK_BACK = 100

/** The statics a TickActor class may set. */
export interface TickActorStatics {
  /** The time between ticks, at least, in ms. Default 1000. */
  readonly resolution?: number
}

/**
 * An actor with a sense of time: a `tick` event every `resolution` ms at least (10 ticks at
 * 1 s take 10 s or more), fired by the one leader of the id across the cluster. Tick ids are
 * derived from the tick number, so a tick is stored once even if two instances fire it around
 * a change of leader. Handlers receive the tick number and the scheduled and actual times.
 *
 * @example
 * const ClockEvents = defineEvents({ ...tickEvents })
 * class GameClock extends TickActor<typeof ClockEvents, { round: number }> {
 *   static events = ClockEvents
 *   static resolution = 1_000
 *   tick(data: TickData) { this._state.round = data.tick }
 * }
 */
export abstract class TickActor<C extends AnyEventCatalog = AnyEventCatalog, S extends object = Record<string, unknown>> extends OneActor<C, S> {
  private lastTick = 0
  private lastTickAt: number | undefined
  private timer: { cancel(): void } | undefined

  constructor(id: string, container: Container) {
    super(id, container)
    if (!Object.hasOwn(this.catalog, 'tick')) {
      throw new TypeError(`${this.actorType} is a TickActor: its events must include tick (defineEvents({ ...tickEvents, ... }))`)
    }
  }

  /** The number of the last tick stored, as this instance knows it (0 before the first). */
  get LastTick(): number {
    return this.lastTick
  }

  // Only a stored tick moves the numbering on: a tick applied before its append (no position
  // yet) may fail to be stored, and its number is then fired again, never skipped.
  protected override apply(event: AppliedEvent): void {
    super.apply(event)
    if (event.name === 'tick' && event.position !== undefined) this.stored(event.data as TickData)
  }

  protected override async appendApplied(event: NewEvent, expectedVersion: number): Promise<EventEnvelope> {
    const stored = await super.appendApplied(event, expectedVersion)
    if (stored.name === 'tick') this.stored(stored.data as TickData)
    return stored
  }

  // A snapshot holds the state, not the tick number: when no tick follows the snapshot, the
  // last one is read back from the stream before it, or the numbering would start again at 1.
  protected override async rebuild(): Promise<void> {
    await super.rebuild()
    for (let to = this.version; to > 0 && this.lastTick === 0; to -= LOOK_BACK) {
      let last: TickData | undefined
      for await (const e of this.container.store.readStream(this.id, { fromVersion: Math.max(1, to - LOOK_BACK + 1), toVersion: to })) {
        if (e.name === 'tick') last = e.data as TickData
      }
      if (last) this.stored(last)
    }
  }

  private stored(data: TickData): void {
    if (data.tick < this.lastTick) return
    this.lastTick = data.tick
    this.lastTickAt = data.firedAt
  }

  protected override onLeading(): void {
    this.scheduleNextTick()
  }

  protected override onFollowing(): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  private get resolution(): number {
    return (this.constructor as TickActorStatics).resolution ?? 1_000
  }

  private scheduleNextTick(): void {
    this.timer?.cancel()
    if (!this.IsLeader) return
    const { clock } = this.container
    const now = clock.now()
    const scheduledAt = this.lastTickAt === undefined ? now + this.resolution : Math.max(now, this.lastTickAt + this.resolution)
    const tick = this.lastTick + 1
    this.timer = clock.setTimeout(() => void this.fireTick(tick, scheduledAt), scheduledAt - now)
  }

  private async fireTick(tick: number, scheduledAt: number): Promise<void> {
    this.timer = undefined
    if (!this.IsLeader || tick !== this.lastTick + 1) return this.scheduleNextTick()
    const data = { tick, scheduledAt, firedAt: Math.max(scheduledAt, this.container.clock.now()) }
    // `tick` is in every TickActor's catalog (checked in the constructor), which C cannot say.
    const fire = this.Fire.bind(this) as unknown as (name: 'tick', data: TickData, options: { id: string }) => Promise<unknown>
    try {
      await fire('tick', data, { id: `tick/${this.actorType}/${this.id}/${tick}` })
    } catch (err) {
      if (!(err instanceof LeaseLostError)) this.container.report(err, { where: `tick ${tick} of ${this.actorType} "${this.id}"` })
    }
    if (this.IsLeader && !this.timer) this.scheduleNextTick()
  }
}

reserveFrameworkMembers(TickActor.prototype)
