import type { Container } from '../Container.js'
import type { EventEnvelope } from '../envelope.js'
import { findDefinition, upcastEventData, type AnyEventCatalog, type EventDefinition } from '../events.js'
import { MemoryReadModelStorage } from '../store/memory/MemoryReadModelStorage.js'
import type { DocumentPage, FindOptions, ListOptions, ReadModelStorage } from './ReadModelStorage.js'
import { DocumentBatch, type DocumentOp, type IndexFunctions } from './DocumentBatch.js'
import { ReadModelStorageMissingError, UnknownIndexError } from './errors.js'
import { handlerLookup, reportMisspeltHandlers, type HandlerMethod } from '../handlers.js'
import type { Progress, ProgressListener } from './Progress.js'
import { HandlerFailure, Runner } from './Runner.js'
import { PositionWatch, type WaitForOptions } from './PositionWatch.js'
import { headOf } from './headOf.js'

export type { WaitForOptions } from './PositionWatch.js'

/** The statics a read model class declares; all optional but `events`. */
export interface ReadModelStatics {
  /** The events it handles (a catalog from `defineEvents`; spread several into one). */
  readonly events?: AnyEventCatalog
  /**
   * The meaning of its documents. Bump it when handlers change: the new version is built from
   * the start of the log beside the old one, which keeps answering queries until the new one
   * has caught up. Default 1.
   */
  readonly version?: number
  /** The stored name; default the class name. */
  readonly modelName?: string
  /** Declared indexes: a function of the document giving the value `find` filters and orders by. */
  readonly indexes?: IndexFunctions
  /** Only this stream's events (default: every stream's). */
  readonly stream?: string
  /** `'store'` (default): kept in the store, one runner across processes; `'memory'`: each process builds its own. */
  readonly storage?: 'store' | 'memory'
  /** Lease time of the one runner, in ms. Default 5000: another process takes over within it. */
  readonly leaseMs?: number
  /**
   * Most events applied in one commit (catching up fills them; live events commit on the next
   * turn). Default 65536. A commit also holds at most 16384 documents: only the documents of
   * a batch are kept in memory until it commits, not its events.
   */
  readonly batchSize?: number
}

/** A read model's progress: the runner's, with the version it builds and the version queries answer from. */
export interface ReadModelProgress extends Progress {
  readonly version: number
  readonly activeVersion: number | undefined
}

// Events handed over at a time while catching up (staged into the open batch, then dropped).
const CHUNK = 4_096
// Most documents one commit holds: bounds its memory and its transaction for models with many keys.
const MAX_BATCH_DOCUMENTS = 16_384

/** What a handler needs, found once per event name. */
interface Route {
  readonly handler: (data: unknown, event: EventEnvelope) => unknown
  readonly definition: EventDefinition
}

// Members of ReadModel (and of every object) are never handlers, even when an event shares a name.
const handlers = handlerLookup<HandlerMethod<EventEnvelope>>(Object.getOwnPropertyNames(Object.prototype))

/**
 * A collection of documents by key, kept from the events: handler methods named after events
 * call `this.set`, `this.update` and `this.delete`. Start it in any number of processes: one
 * applies the events (a lease elects it), every one answers queries. Its documents and its
 * checkpoint change together (one transaction on SQLite and PostgreSQL), so each event counts
 * once, whatever crashes.
 *
 * @example
 * type Follows = { followers: string[]; following: string[] }
 * class FollowGraph extends ReadModel<typeof UserEvents, Follows> {
 *   static events = UserEvents
 *   static version = 1
 *   static indexes = { followers: (doc: Follows) => doc.followers.length }
 *   Followed(data: EventData<typeof UserEvents, 'Followed'>, event: EventEnvelope) {
 *     this.update(event.streamId, (doc = empty()) => ({ ...doc, following: [...doc.following, data.user] }))
 *   }
 * }
 * const graph = await new FollowGraph(container).start()
 * await graph.waitFor(await alice.Follow('bob'))
 * await graph.get('alice')                                   // { followers: [], following: ['bob'] }
 * await graph.find('followers', { order: 'desc', limit: 10 }) // the ten most followed
 */
export abstract class ReadModel<C extends AnyEventCatalog = AnyEventCatalog, D = unknown> {
  /** The stored name. */
  readonly name: string
  /** This code's version (`static version`). */
  readonly version: number
  private readonly storage: ReadModelStorage
  private readonly runner: Runner
  private readonly statics: ReadModelStatics
  private ops: DocumentOp[] | undefined
  private readonly routes = new Map<string, Route | null>()
  private readonly batchSize: number
  // The batch being filled: its events are applied, not committed yet (see applyBatch).
  private open: DocumentBatch | undefined
  private openTo = 0
  private openEvents = 0
  private checkpoint = 0
  private activeVersion: number | undefined
  private activateNext = false
  private previousActive: number | undefined
  private checkedAt = 0
  // The waitFor calls of this process: one poll serves them all, woken on each commit here.
  private readonly watch: PositionWatch

  constructor(protected readonly container: Container) {
    this.statics = this.constructor as ReadModelStatics
    this.name = this.statics.modelName ?? this.constructor.name
    this.version = this.statics.version ?? 1
    if (!Number.isInteger(this.version) || this.version < 1) throw new TypeError(`read model "${this.name}": static version must be a whole number >= 1, got ${String(this.version)}`)
    const memory = this.statics.storage === 'memory'
    const storage = memory ? new MemoryReadModelStorage() : container.store.readModels?.()
    if (!storage) throw new ReadModelStorageMissingError(this.name)
    this.storage = storage
    this.watch = new PositionWatch(container, this.name, () => (this.runner.isRunning && this.activeVersion === this.version ? this.checkpoint : this.storage.activeCheckpoint(this.name)))
    reportMisspeltHandlers(this, this.name, this.catalog, handlers.isReserved, container, (err) => container.report(err, { where: `read model "${this.name}"` }))
    const leaseMs = this.statics.leaseMs ?? 5_000
    this.batchSize = this.statics.batchSize ?? 65_536
    this.runner = new Runner(
      container,
      {
        name: `read model "${this.name}" v${this.version}`,
        telemetry: { kind: 'read model', name: this.name },
        ...(this.statics.stream !== undefined ? { streamId: this.statics.stream } : {}),
        ...(memory ? {} : { lease: { name: this.leaseName, leaseMs, renewEveryMs: Math.max(50, Math.floor(leaseMs / 4)) } }),
        begin: (term) => this.begin(term),
        apply: (events, term, final) => this.applyBatch(events, term, final),
        afterCommit: (position, term) => this.afterCommit(position, term),
        runningState: (position, head) => (this.activeVersion !== this.version ? 'building' : position < head ? 'catching-up' : 'live'),
      },
      Math.min(CHUNK, this.batchSize),
    )
  }

  /** The catalog of `static events`. */
  protected get catalog(): C {
    return (this.statics.events ?? {}) as C
  }

  /**
   * Takes part in running it: this process applies the events while it holds the lease (at
   * once for a `'memory'` model). Resolves at once; `waitFor` or `progress()` tell how far it is.
   */
  async start(): Promise<this> {
    this.runner.start()
    return this
  }

  /** Stops applying events here (another process takes over); queries keep working. */
  async stop(): Promise<void> {
    await this.runner.stop()
  }

  /** The document of `key`, from the active version. */
  async get(key: string): Promise<D | undefined> {
    return (await this.storage.get(this.name, key)) as D | undefined
  }

  /** Documents in key order, a page at a time (`next` is the cursor of the following page). */
  async list(options: Omit<ListOptions, 'version'> = {}): Promise<DocumentPage<D>> {
    return (await this.storage.list(this.name, options)) as DocumentPage<D>
  }

  /**
   * Documents by the value of a declared index (`static indexes`), in index order: filtered
   * (`eq`, `gt`, `gte`, `lt`, `lte`), ordered (`order`), a page at a time. Reads the index,
   * never every document.
   */
  async find(index: string, options: Omit<FindOptions, 'version'> = {}): Promise<DocumentPage<D>> {
    const declared = Object.keys(this.statics.indexes ?? {})
    if (!declared.includes(index)) throw new UnknownIndexError(this.name, index, declared)
    return (await this.storage.find(this.name, index, options)) as DocumentPage<D>
  }

  /**
   * Resolves once queries answer with the event applied (read-your-writes): give the envelope
   * a `Fire` resolved with, or a position. Works in every process, running or not.
   */
  async waitFor(target: EventEnvelope | number, options: WaitForOptions = {}): Promise<void> {
    if (typeof target !== 'number' && this.statics.stream !== undefined && target.streamId !== this.statics.stream) return
    await this.watch.wait(typeof target === 'number' ? target : target.position, options)
  }

  /** Where it is: state, position, head, events per second, the version built and the one answering. */
  progress(): ReadModelProgress {
    return { ...this.runner.progress(), version: this.version, activeVersion: this.activeVersion }
  }

  /** Calls `listener` on each change of progress (for a progress bar); returns the unsubscribe. */
  onProgress(listener: (progress: ReadModelProgress) => void): () => void {
    const wrapped: ProgressListener = () => listener(this.progress())
    return this.runner.onProgress(wrapped)
  }

  /** Inside a handler: replaces the document of `key`. */
  protected set(key: string, doc: D): void {
    this.op({ kind: 'set', key, doc })
  }

  /** Inside a handler: the document of `key` becomes `fn(current)` (`undefined` when there is none); returning undefined deletes it. */
  protected update(key: string, fn: (doc: D | undefined) => D | undefined): void {
    this.op({ kind: 'update', key, fn })
  }

  /** Inside a handler: removes the document of `key`. */
  protected delete(key: string): void {
    this.op({ kind: 'delete', key })
  }

  private op(op: DocumentOp): void {
    if (!this.ops) throw new TypeError(`read model "${this.name}": set, update and delete work only inside a handler`)
    this.ops.push(op)
  }

  private get leaseName(): string {
    return `read/${this.name}/v${this.version}`
  }

  private async begin(term: number): Promise<number | 'superseded'> {
    this.open = undefined
    const info = await this.storage.info(this.name)
    this.activeVersion = info.active
    if (info.active !== undefined && info.active > this.version) return 'superseded'
    this.checkpoint = info.versions.find((v) => v.version === this.version)?.checkpoint ?? 0
    this.openTo = this.checkpoint
    this.openEvents = 0
    // The first version ever is active at once: there is no older one to answer meanwhile.
    this.activateNext = info.active === undefined
    this.previousActive = info.active
    // Nothing new may come for a while: a version that has caught up already switches now.
    await this.afterCommit(this.checkpoint, term)
    return this.checkpoint
  }

  /**
   * Applies the events to the open batch, and commits it when `final` (no more events queued)
   * or when it is full; else returns `'staged'`, and the runner hands over the next chunk. So
   * a catch-up writes each document once per commit of up to `batchSize` events, holding only
   * the documents meanwhile. Events up to what is staged already are skipped: a retry after a
   * failed commit commits what was applied, without applying it twice.
   */
  private async applyBatch(events: readonly EventEnvelope[], term: number, final: boolean): Promise<'committed' | 'staged' | 'stale'> {
    let batch = (this.open ??= new DocumentBatch(this.storage, this.name, this.version))
    // One array for every event's ops: each event's are applied (and any read awaited) before the next runs.
    const ops: DocumentOp[] = []
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      if (event.position <= this.openTo) continue
      const route = this.route(event.name)
      if (route) {
        try {
          this.ops = ops
          const result = route.handler.call(this, upcastEventData(route.definition, event.data, event.schemaVersion), event)
          // A synchronous handler costs no promise: a rebuild runs millions of them.
          if (result instanceof Promise) await result
        } catch (err) {
          // What was applied before this event is committed; the runner retries from it.
          let committedTo: number | undefined
          if (this.openTo > this.checkpoint) {
            if ((await this.commit(batch, this.openTo, term)) === 'stale') return 'stale'
            committedTo = this.checkpoint
          }
          throw new HandlerFailure(event, err, i, committedTo)
        } finally {
          this.ops = undefined
        }
        if (ops.length > 0) {
          const reading = batch.apply(ops, event)
          if (reading) await reading
          ops.length = 0
        }
      }
      this.openTo = event.position
      this.openEvents++
      if (this.full(batch) && i < events.length - 1) {
        // Full before the end of the chunk: commit it, and go on in a new one.
        if ((await this.commit(batch, this.openTo, term)) === 'stale') return 'stale'
        batch = this.open = new DocumentBatch(this.storage, this.name, this.version)
      }
    }
    if (this.openTo <= this.checkpoint) return 'committed'
    if (!final && !this.full(batch)) return 'staged'
    return this.commit(batch, this.openTo, term)
  }

  private full(batch: DocumentBatch): boolean {
    return this.openEvents >= this.batchSize || batch.size >= MAX_BATCH_DOCUMENTS
  }

  private route(name: string): Route | undefined {
    let route = this.routes.get(name)
    if (route === undefined) {
      const handler = handlers.of(this, name)
      const definition = handler && findDefinition(this.catalog, name)
      route = handler && definition ? { handler, definition } : null
      this.routes.set(name, route)
    }
    return route ?? undefined
  }

  private async commit(batch: DocumentBatch, to: number, term: number, activate = this.activateNext): Promise<'committed' | 'stale'> {
    const outcome = await this.storage.commit({
      model: this.name,
      version: this.version,
      from: this.checkpoint,
      to,
      writes: batch.writes(this.statics.indexes),
      indexes: Object.keys(this.statics.indexes ?? {}),
      ...(activate ? { activate } : {}),
      ...(term > 0 ? { lease: { name: this.leaseName, term } } : {}),
    })
    if (batch === this.open) {
      // Committed, or refused as stale (the runner starts over from the stored checkpoint): either way it is done.
      this.open = undefined
      this.openEvents = 0
    }
    if (outcome === 'committed') {
      this.checkpoint = to
      if (activate) {
        this.activeVersion = this.version
        this.activateNext = false
      }
      this.watch.changed()
    }
    return outcome
  }

  /**
   * While building beside an older version: switch once caught up with the head, then drop
   * what is older. While active: notice (at most once a second) that a newer version took over.
   */
  private async afterCommit(position: number, term: number): Promise<void | 'superseded'> {
    if (this.activeVersion === this.version) {
      const now = this.container.clock.now()
      if (now - this.checkedAt < 1_000) return
      this.checkedAt = now
      const { active } = await this.storage.info(this.name)
      if (active !== undefined && active > this.version) {
        this.activeVersion = active
        return 'superseded'
      }
      return
    }
    if (position < (await headOf(this.container.store, this.statics.stream))) return
    if ((await this.commit(new DocumentBatch(this.storage, this.name, this.version), position, term, true)) !== 'committed') return
    const info = await this.storage.info(this.name)
    for (const { version } of info.versions) {
      if (version !== this.version && version !== this.previousActive) {
        await this.storage.drop(this.name, version).catch((err: unknown) => this.container.report(err, { where: `drop of read model "${this.name}" v${version}` }))
      }
    }
  }
}

handlers.reserve(ReadModel.prototype)
