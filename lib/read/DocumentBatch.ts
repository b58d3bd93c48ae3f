import type { EventEnvelope } from '../envelope.js'
import { encodeIndexValue } from '../store/kit/indexValue.js'
import type { DocumentWrite, IndexValue, ReadModelStorage } from './ReadModelStorage.js'

/** One change a handler asked for. */
export type DocumentOp =
  | { readonly kind: 'set'; readonly key: string; readonly doc: unknown }
  | { readonly kind: 'update'; readonly key: string; readonly fn: (doc: never) => unknown }
  | { readonly kind: 'delete'; readonly key: string }

interface Entry {
  doc: unknown
  position: number
  /** Engines without transactions: the position the stored document reflected when first read. */
  readonly storedAt: number
}

/** The index functions of a read model, by index name. */
export type IndexFunctions = Readonly<Record<string, (doc: never) => IndexValue>>

/**
 * The documents one batch changes, kept in memory until the batch commits: later events of
 * the batch see the changes of earlier ones, and each document is written once.
 *
 * On an engine whose commit is not one transaction (RethinkDB), a document may already reflect
 * some of the batch's events (a runner crashed after writing it, before its checkpoint): the
 * position it was stored at is read at its first touch, and the events up to it are not
 * applied to it again.
 */
export class DocumentBatch {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly storage: ReadModelStorage,
    private readonly model: string,
    private readonly version: number,
  ) {}

  /**
   * Applies one event's ops, in order. Synchronous while every document touched is in the
   * batch already (the common case of a rebuild); a promise only when one must be read first.
   */
  apply(ops: readonly DocumentOp[], event: EventEnvelope): Promise<void> | undefined {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      const entry = this.entries.get(op.key) ?? (op.kind !== 'update' && this.storage.atomic ? this.blind(op.key) : undefined)
      if (!entry) return this.applyReading(ops, i, event)
      applyOp(entry, op, event)
    }
    return undefined
  }

  private async applyReading(ops: readonly DocumentOp[], from: number, event: EventEnvelope): Promise<void> {
    for (let i = from; i < ops.length; i++) {
      const op = ops[i]!
      applyOp(await this.entry(op.key), op, event)
    }
  }

  /** The writes of the batch, with their index values. */
  writes(indexes: IndexFunctions | undefined): DocumentWrite[] {
    const writes: DocumentWrite[] = []
    for (const [key, entry] of this.entries) {
      if (entry.position === 0) continue
      const index: Record<string, string> = {}
      if (entry.doc !== undefined && indexes) {
        for (const name in indexes) {
          const value = encodeIndexValue(indexes[name]!(entry.doc as never))
          if (value !== undefined) index[name] = value
        }
      }
      writes.push({ key, doc: entry.doc, index, position: entry.position })
    }
    return writes
  }

  get size(): number {
    return this.entries.size
  }

  // A set or delete on a transactional engine needs no read: nothing can be ahead of the batch.
  private blind(key: string): Entry {
    const entry = { doc: undefined, position: 0, storedAt: 0 }
    this.entries.set(key, entry)
    return entry
  }

  private async entry(key: string): Promise<Entry> {
    const known = this.entries.get(key)
    if (known) return known
    const stored = await this.storage.read(this.model, this.version, key)
    const entry = { doc: stored?.doc, position: 0, storedAt: this.storage.atomic ? 0 : (stored?.position ?? 0) }
    this.entries.set(key, entry)
    return entry
  }
}

function applyOp(entry: Entry, op: DocumentOp, event: EventEnvelope): void {
  if (event.position <= entry.storedAt) return
  entry.doc = op.kind === 'set' ? op.doc : op.kind === 'delete' ? undefined : op.fn(entry.doc as never)
  entry.position = event.position
}
