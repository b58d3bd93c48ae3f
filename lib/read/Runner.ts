import type { Container } from '../Container.js'
import type { EventEnvelope } from '../envelope.js'
import { LeaseLostError } from '../errors.js'
import type { Subscription } from '../store/Subscription.js'
import { isStoreClosed, LeaseKeeper, type LeaseTiming } from '../leases/LeaseKeeper.js'
import { headOf } from './headOf.js'
import { RateMeter, type Progress, type ProgressListener } from './Progress.js'
import { observeGauges, type GaugeName } from '../telemetry/metrics.js'
import { traceBatch } from '../telemetry/spans.js'

/**
 * A handler threw on `event`: the events before it (`applied` of this call's, and any staged
 * before) were committed up to `committedTo` (undefined when there was nothing to commit),
 * the rest were not.
 */
export class HandlerFailure extends Error {
  constructor(
    readonly event: EventEnvelope,
    override readonly cause: unknown,
    readonly applied: number,
    readonly committedTo: number | undefined,
  ) {
    super(`handler failed on ${event.name} at position ${event.position}`)
  }
}

/** What a runner runs: a read model's or a projection's side of the loop. */
export interface RunnerTask {
  readonly name: string
  /** What it is and its own name, for spans and metrics (docs/telemetry.md). */
  readonly telemetry?: { readonly kind: 'projection' | 'read model'; readonly name: string }
  /** Only this stream's events (default: every stream's). */
  readonly streamId?: string
  /** The lease that makes it one runner across processes; none for a model private to this process. */
  readonly lease?: { readonly name: string } & LeaseTiming
  /** Called when this process starts running it: the position to continue after, or `'superseded'`. */
  begin(term: number): Promise<number | 'superseded'>
  /**
   * Applies the events (in position order) under `term`, committing up to the last one, or,
   * when `final` is false and the task keeps an open batch, only staging them (`'staged'`: the
   * runner drops the envelopes and calls again, with `final` true once no more are queued;
   * events at or below what is staged already are skipped, so a retry never applies one twice).
   * Throws `HandlerFailure` when a handler fails, `LeaseLostError` when fenced out; returns
   * `'stale'` when the stored checkpoint moved under it (the runner then starts over, and
   * `begin` drops what was staged).
   */
  apply(events: readonly EventEnvelope[], term: number, final: boolean): Promise<'committed' | 'staged' | 'stale'>
  /** After each commit, with the position reached (a read model switches versions here, or learns it is superseded). */
  afterCommit?(position: number, term: number): Promise<void | 'superseded'>
  /** The state to show while running and not stuck. */
  runningState(position: number, head: number): Progress['state']
}

const MAX_RETRY_MS = 5_000

/** The wait before retry number `failures` (1, 2...): 20 ms, doubling, capped at 5 s. */
function backoffMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, 10 * 2 ** Math.min(failures, 20))
}
const HEAD_EVERY_MS = 500
// How often an idle runner asks its task whether it is still wanted (a read model replaced by a
// newer version learns it here when no events come): the task may throttle the question itself.
const IDLE_CHECK_MS = 250
// Catching up, staged events are committed once no more have come for this long: the end of a
// catch-up that stops below the head (a model of one stream), or a read that stalls.
const CATCH_UP_IDLE_MS = 100

// The next turn of the event loop: setImmediate in Node (no 1 ms floor), a timer elsewhere.
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
const nextTurn: (fn: () => void) => void = immediate ? (fn) => void immediate(fn) : (fn) => void setTimeout(fn, 0)

let runners = 0

/**
 * The loop shared by read models and projections: holds the lease (when there is one),
 * subscribes from the checkpoint, and hands the events to the task in chunks of at most
 * `chunkSize`. What arrived before the event loop turned is committed on the next turn (so a
 * live event is committed at once, and catch-up, which reads without yielding, fills whole
 * chunks); a task may stage full chunks and commit several together (a read model does). A
 * failing batch is retried with backoff for ever, each failure reported with its event;
 * nothing is skipped.
 */
export class Runner {
  readonly owner: string
  private readonly keeper: LeaseKeeper | undefined
  private subscription: Subscription | undefined
  private pending: EventEnvelope[] = []
  // Events the task staged and has not committed yet, and the last one's position.
  private staged = 0
  private stagedTo = 0
  private chain: Promise<void> = Promise.resolve()
  private scheduled = false
  // The position of the last event received, and the commit of staged events when none follow.
  private received = 0
  private idle: { cancel(): void } | undefined
  private term = 0
  private generation = 0
  private running = false
  private state: Progress['state'] = 'stopped'
  private position = 0
  private head = 0
  private headAt = 0
  private stuck: Progress['stuck'] | undefined
  private readonly rate = new RateMeter()
  private readonly listeners = new Set<ProgressListener>()
  private retry: { cancel(): void } | undefined
  private idleCheck: { cancel(): void } | undefined
  // Superseded by a newer version: the lease is given up, and a lost lease means nothing more.
  private retired = false
  private unregisterClose: (() => void) | undefined
  // The commit time of the last event committed (for the lag in seconds).
  private lastAt = 0

  constructor(
    private readonly container: Container,
    private readonly task: RunnerTask,
    private readonly chunkSize: number,
  ) {
    this.owner = `${task.name}:${container.ids()}:${++runners}`
    observeGauges(this, (runner, observe) => runner.observeLag(observe))
    if (task.lease) {
      // Leading ends at the lease's local expiry too (see LeaseKeeper): nothing is applied after it.
      this.keeper = new LeaseKeeper(container, task.lease.name, this.owner, task.lease, {
        onLeading: (term) => void this.run(term),
        onFollowing: () => void this.halt(this.retired ? 'superseded' : 'standby'),
      })
    }
  }

  /** The lag gauges (docs/telemetry.md), while this process runs the task. */
  private observeLag(observe: (gauge: GaugeName, value: number, attributes?: Record<string, string>) => void): void {
    if (!this.isRunning) return
    const { kind, name } = this.task.telemetry ?? { kind: 'read model', name: this.task.name }
    const attributes = { 'omniscient.read.kind': kind, 'omniscient.read.name': name }
    const head = Math.max(this.head, this.position)
    // Behind: how old the oldest event not handled yet is (received, else after the last handled).
    const oldest = this.pending[0]?.at ?? this.lastAt
    observe('omniscient.read.lag.positions', head - this.position, attributes)
    observe('omniscient.read.lag.seconds', head > this.position && oldest > 0 ? Math.max(0, this.container.clock.now() - oldest) / 1000 : 0, attributes)
    observe('omniscient.read.stuck', this.stuck ? 1 : 0, attributes)
  }

  /** Starts: at once without a lease, else once this process holds it. */
  start(): void {
    if (this.running) return
    this.running = true
    this.retired = false
    // Closing the container stops it while the store still answers: the lease is released.
    this.unregisterClose = this.container.onClose(() => this.stop())
    this.setState('standby')
    if (this.keeper) void this.keeper.start()
    else void this.run(0)
  }

  /** Stops applying events here: releases the lease, ends the subscription, waits for the batch being committed. */
  async stop(): Promise<void> {
    this.running = false
    this.unregisterClose?.()
    this.unregisterClose = undefined
    await this.keeper?.stop()
    await this.halt('stopped')
  }

  /** True while this process applies the events. */
  get isRunning(): boolean {
    return this.subscription !== undefined
  }

  progress(): Progress {
    return {
      name: this.task.name,
      state: this.state,
      position: this.position,
      head: Math.max(this.head, this.position),
      eventsPerSecond: this.rate.perSecond(this.container.clock.now()),
      ...(this.stuck ? { stuck: this.stuck } : {}),
    }
  }

  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Begins a term: `failures` counts the failed begins just before this one (a success ends the run of them). */
  private async run(term: number, failures = 0): Promise<void> {
    const generation = ++this.generation
    // The previous run's batch settles first (a retry's wait is cut short): an apply still in
    // flight would otherwise stage its events into what begin resets, and they would be skipped.
    this.retry?.cancel()
    this.idle?.cancel()
    this.idleCheck?.cancel()
    await this.chain
    if (generation !== this.generation) return
    this.term = term
    let from: number | 'superseded'
    try {
      from = await this.task.begin(term)
    } catch (err) {
      if (isStoreClosed(err)) return
      this.container.report(err, { where: `start of ${this.task.name}` })
      if (err instanceof LeaseLostError) this.keeper?.lost(term)
      else if (generation === this.generation && this.running) {
        this.retry = this.container.clock.setTimeout(() => void this.run(term, failures + 1), backoffMs(failures + 1))
      }
      return
    }
    if (generation !== this.generation || !this.running) return
    if (from === 'superseded') {
      this.retire()
      return
    }
    this.position = from
    this.staged = 0
    await this.sampleHead(true)
    this.setState(this.task.runningState(this.position, this.head))
    this.subscription = this.container.store.subscribe(
      { fromPosition: from + 1, ...(this.task.streamId !== undefined ? { streamId: this.task.streamId } : {}) },
      (event) => this.receive(event, generation),
    )
    if (this.task.afterCommit) this.watchIdle(generation)
  }

  /** While no events come, asks the task every IDLE_CHECK_MS whether it is still wanted (afterCommit). */
  private watchIdle(generation: number): void {
    this.idleCheck = this.container.clock.setTimeout(() => {
      if (generation !== this.generation) return
      if (this.pending.length === 0 && this.staged === 0 && !this.scheduled) this.chain = this.chain.then(() => this.checkIdle(generation))
      this.watchIdle(generation)
    }, IDLE_CHECK_MS)
  }

  private async checkIdle(generation: number): Promise<void> {
    if (generation !== this.generation || this.pending.length > 0 || this.staged > 0) return
    try {
      this.keeper?.fence()
      if ((await this.task.afterCommit!(this.position, this.term)) === 'superseded') this.retire()
      else if (generation === this.generation) this.setState(this.task.runningState(this.position, this.head))
    } catch (err) {
      if (err instanceof LeaseLostError) this.keeper?.lost(this.term)
      else if (!isStoreClosed(err)) this.container.report(err, { where: `${this.task.name}: check for a newer version` })
    }
  }

  /** A newer version answers: stop applying, and give the lease up (nothing to run under it). */
  private retire(): void {
    this.retired = true
    // Not awaited: halting waits for the batch being committed, which may be the caller.
    void this.halt('superseded').then(() => this.keeper?.stop())
  }

  private async halt(state: Progress['state']): Promise<void> {
    this.generation++
    this.retry?.cancel()
    this.idle?.cancel()
    this.idleCheck?.cancel()
    const subscription = this.subscription
    this.subscription = undefined
    this.pending = []
    this.setState(state)
    await subscription?.close()
    await this.chain
  }

  private receive(event: EventEnvelope, generation: number): Promise<void> | undefined {
    if (generation !== this.generation) return undefined
    this.pending.push(event)
    this.received = event.position
    if (!this.scheduled) {
      this.scheduled = true
      nextTurn(() => {
        this.scheduled = false
        // Below the head sampled, the event loop turns while the store reads the next page
        // (PostgreSQL): stage what came, and commit at the batch's limits, or when no more come.
        const catchingUp = this.received < this.head
        this.idle?.cancel()
        this.idle = catchingUp ? this.container.clock.setTimeout(() => void this.flush(generation, true), CATCH_UP_IDLE_MS) : undefined
        void this.flush(generation, !catchingUp)
      })
    }
    // A full chunk: the subscription waits for it (catch-up reads no faster than it applies).
    if (this.pending.length >= this.chunkSize) return this.flush(generation, false)
    return undefined
  }

  /** Queues the pending events as one chunk behind the one being applied; `final`: commit what is staged too. */
  private flush(generation: number, final: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.applyPending(generation, final))
    return this.chain
  }

  private async applyPending(generation: number, final: boolean): Promise<void> {
    // A flush of an earlier run (a late turn or timer) must leave this run's events alone.
    if (generation !== this.generation) return
    let events = this.pending
    this.pending = []
    if (events.length === 0 && !(final && this.staged > 0)) return
    for (let failures = 0; ; ) {
      if (generation !== this.generation) return
      try {
        // Past the lease's local expiry nothing more is applied here (fence throws LeaseLostError).
        this.keeper?.fence()
        // A retry commits at once: the batch that failed is not held back any longer.
        const batch = events
        const outcome = await traceBatch(this.task.telemetry?.kind ?? 'read model', this.task.telemetry?.name ?? this.task.name, batch, this.term, () => this.task.apply(batch, this.term, final || failures > 0))
        if (outcome === 'staged') {
          if (events.length > 0) {
            this.staged += events.length
            this.stagedTo = events.at(-1)!.position
          }
          return
        }
        if (outcome === 'stale') {
          // Someone else moved the checkpoint: start over from the stored one.
          this.container.report(new Error(`${this.task.name}: the checkpoint moved under this runner; starting over from the stored one`), { where: this.task.name })
          void this.restart(generation)
          return
        }
        this.rate.add(this.staged + events.length, this.container.clock.now())
        this.position = events.length > 0 ? events.at(-1)!.position : this.stagedTo
        if (events.length > 0) this.lastAt = events.at(-1)!.at
        this.staged = 0
        this.stuck = undefined
        await this.sampleHead(false)
        if ((await this.task.afterCommit?.(this.position, this.term)) === 'superseded') {
          this.retire()
          return
        }
        if (generation === this.generation) this.setState(this.task.runningState(this.position, this.head))
        return
      } catch (err) {
        if (err instanceof LeaseLostError) {
          this.keeper?.lost(err.term)
          return
        }
        if (isStoreClosed(err)) return
        failures++
        if (err instanceof HandlerFailure) {
          if (err.committedTo !== undefined) {
            this.rate.add(this.staged + err.applied, this.container.clock.now())
            this.position = err.committedTo
            this.staged = 0
            failures = 1
          }
          events = events.slice(err.applied)
          this.stuck = { event: err.event, error: err.cause, attempts: (this.stuck?.event.id === err.event.id ? this.stuck.attempts : 0) + 1 }
          this.container.report(err.cause, { event: err.event, where: `${this.task.name}: handler (attempt ${this.stuck.attempts}; retrying, nothing is skipped)` })
          this.setState('stuck')
        } else {
          this.container.report(err, { ...(events[0] ? { event: events[0] } : {}), where: `${this.task.name}: commit (retrying)` })
        }
        await new Promise<void>((resolve) => {
          const timer = this.container.clock.setTimeout(resolve, backoffMs(failures))
          // A halt cancels the wait: resolve anyway so the chain settles.
          this.retry = {
            cancel: () => {
              timer.cancel()
              resolve()
            },
          }
        })
      }
    }
  }

  private async restart(generation: number): Promise<void> {
    if (generation !== this.generation) return
    const term = this.term
    const subscription = this.subscription
    this.subscription = undefined
    this.generation++
    this.pending = []
    await subscription?.close()
    if (this.running) await this.run(term)
  }

  private async sampleHead(force: boolean): Promise<void> {
    const now = this.container.clock.now()
    if (!force && (this.state === 'live' || now - this.headAt < HEAD_EVERY_MS)) return
    this.headAt = now
    try {
      this.head = await headOf(this.container.store, this.task.streamId)
    } catch {
      // Progress only: the next sample will do.
    }
  }

  private setState(state: Progress['state']): void {
    this.state = this.stuck && state !== 'stopped' && state !== 'standby' ? 'stuck' : state
    const progress = this.progress()
    for (const listener of this.listeners) {
      try {
        listener(progress)
      } catch (err) {
        this.container.report(err, { where: `progress listener of ${this.task.name}` })
      }
    }
  }
}
