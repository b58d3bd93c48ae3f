import { assertCurrentTerm } from '../kit/leaseRules.js'
import { compareBytes, encodedRange, findCursor, parseFindCursor, type EncodedRange } from '../kit/indexValue.js'
import { parseStoredJson } from '../../safeData.js'
import {
  documentPage,
  pageSize,
  type CommitOutcome,
  type DocumentPage,
  type FindOptions,
  type ListOptions,
  type ReadModelBatch,
  type ReadModelInfo,
  type ReadModelStorage,
} from '../../read/ReadModelStorage.js'
import type { LeaseState } from '../StorageAdapter.js'

// Documents are kept as JSON text, like a real engine, so a query never hands out a reference
// a caller could mutate, and what a test reads has been through the same round trip.
interface StoredDoc {
  readonly json: string
  readonly position: number
  readonly index: Readonly<Record<string, string>>
}

interface Version {
  checkpoint: number
  readonly docs: Map<string, StoredDoc>
}

interface Model {
  active: number | undefined
  readonly versions: Map<number, Version>
}

/**
 * Read models in memory: the MemoryStore's, and the storage of a read model declared
 * `static storage = 'memory'` (each process builds its own). A batch is applied whole.
 *
 * @example
 * const storage = new MemoryReadModelStorage()
 * await storage.commit({ model: 'm', version: 1, from: 0, to: 3, writes: [], activate: true })
 */
export class MemoryReadModelStorage implements ReadModelStorage {
  readonly atomic = true
  private readonly models = new Map<string, Model>()

  /** `leaseOf` reads the store's leases, for fencing; without it batches are not fenced. */
  constructor(private readonly leaseOf?: (name: string) => LeaseState | undefined) {}

  async info(model: string): Promise<ReadModelInfo> {
    const m = this.models.get(model)
    return {
      active: m?.active,
      versions: m ? [...m.versions].map(([version, v]) => ({ version, checkpoint: v.checkpoint })).sort((a, b) => a.version - b.version) : [],
    }
  }

  async activeCheckpoint(model: string): Promise<number> {
    const m = this.models.get(model)
    return (m?.active !== undefined && m.versions.get(m.active)?.checkpoint) || 0
  }

  async commit(batch: ReadModelBatch): Promise<CommitOutcome> {
    if (batch.lease) assertCurrentTerm(this.leaseOf?.(batch.lease.name), batch.lease.name, batch.lease.term)
    let m = this.models.get(batch.model)
    const current = m?.versions.get(batch.version)
    if ((current?.checkpoint ?? 0) !== batch.from) return 'stale'
    if (batch.activate && m?.active !== undefined && m.active > batch.version) return 'stale'
    if (!m) this.models.set(batch.model, (m = { active: undefined, versions: new Map() }))
    let v = current
    if (!v) m.versions.set(batch.version, (v = { checkpoint: 0, docs: new Map() }))
    for (const w of batch.writes) {
      if (w.doc === undefined) v.docs.delete(w.key)
      else v.docs.set(w.key, { json: JSON.stringify(w.doc), position: w.position, index: w.index })
    }
    v.checkpoint = batch.to
    if (batch.activate) m.active = batch.version
    return 'committed'
  }

  async read(model: string, version: number, key: string): Promise<{ doc: unknown; position: number } | undefined> {
    const stored = this.models.get(model)?.versions.get(version)?.docs.get(key)
    return stored && { doc: parseStoredJson(stored.json), position: stored.position }
  }

  async get(model: string, key: string, version?: number): Promise<unknown> {
    const stored = this.docsOf(model, version)?.get(key)
    return stored && parseStoredJson(stored.json)
  }

  async list(model: string, options: ListOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const docs = this.docsOf(model, options.version)
    if (!docs) return { docs: [] }
    const keys = [...docs.keys()].filter((k) => options.after === undefined || compareBytes(k, options.after) > 0).sort(compareBytes)
    const page = keys.slice(0, limit)
    return {
      docs: page.map((key) => ({ key, doc: parseStoredJson(docs.get(key)!.json) })),
      ...(keys.length > limit ? { next: page.at(-1)! } : {}),
    }
  }

  async find(model: string, index: string, options: FindOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const docs = this.docsOf(model, options.version)
    if (!docs) return { docs: [] }
    const range = encodedRange(options)
    const desc = options.order === 'desc'
    const after = options.after === undefined ? undefined : parseFindCursor(options.after)
    const entries: Array<{ key: string; value: string; json: string }> = []
    for (const [key, stored] of docs) {
      const value = stored.index[index]
      if (value === undefined || !inRange(value, range)) continue
      if (after) {
        const c = compareBytes(value, after.value) || compareBytes(key, after.key)
        if (desc ? c >= 0 : c <= 0) continue
      }
      entries.push({ key, value, json: stored.json })
    }
    entries.sort((a, b) => (compareBytes(a.value, b.value) || compareBytes(a.key, b.key)) * (desc ? -1 : 1))
    return documentPage(entries, limit, (e) => e.json, (last) => findCursor(last.value, last.key))
  }

  async drop(model: string, version: number): Promise<void> {
    const m = this.models.get(model)
    if (m && m.active !== version) m.versions.delete(version)
  }

  private docsOf(model: string, version: number | undefined): Map<string, StoredDoc> | undefined {
    const m = this.models.get(model)
    const v = version ?? m?.active
    return v === undefined ? undefined : m?.versions.get(v)?.docs
  }
}

function inRange(value: string, range: EncodedRange): boolean {
  if (range.lower) {
    const c = compareBytes(value, range.lower.value)
    if (c < 0 || (c === 0 && !range.lower.inclusive)) return false
  }
  if (range.upper) {
    const c = compareBytes(value, range.upper.value)
    if (c > 0 || (c === 0 && !range.upper.inclusive)) return false
  }
  return true
}
