import type { RDatum, RTable, TableCreateOptions, WriteResult } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { StorageError } from '../../errors.js'
import { parseStoredJson } from '../../safeData.js'
import { encodedRange, findCursor, parseFindCursor } from '../kit/indexValue.js'
import { assertCurrentTerm } from '../kit/leaseRules.js'
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
import { alreadyExists } from './failures.js'
import type { RethinkConnection } from './RethinkConnection.js'

// RethinkDB has no transaction across documents, so a batch is not one unit here. Instead
// every write is idempotent: a document (and each of its index rows) remembers the position
// of the last event it reflects and refuses a write from an older one; a deleted document
// stays as a tombstone with its position, so a late write cannot bring it back. A runner
// that crashed half-way through a batch, or a deposed runner still writing, therefore leaves
// every document at the newest state any runner computed for it, and the checkpoint only grows.
//
// Ids are uuids derived from the (model, version, key) text: primary keys are limited to 127
// bytes, keys are not.

interface DocRow {
  id: string
  model: string
  version: number
  key: string
  position: number
  /** JSON text; absent on a tombstone. */
  json?: string
}

interface IndexRow {
  id: string
  model: string
  version: number
  name: string
  key: string
  position: number
  /** Absent when the document left this index (or was deleted): the row is then out of the secondary index. */
  value?: string
}

interface VersionRow {
  id: string
  model: string
  version: number
  checkpoint: number
}

interface ActiveRow {
  id: string
  version: number
}

interface ReadTables {
  readonly docs: RTable<DocRow>
  readonly index: RTable<IndexRow>
  readonly versions: RTable<VersionRow>
  readonly active: RTable<ActiveRow>
}

const NAMES = ['read_documents', 'read_index', 'read_models', 'read_active'] as const

/**
 * Read models on RethinkDB, beside a RethinkStore's tables. Writes are idempotent per
 * document (see above); `atomic` is false, so a runner reads a document's position before it
 * applies an event to it again.
 *
 * @example
 * const storage = new RethinkStore({ url }).readModels()
 */
export class RethinkReadModelStorage implements ReadModelStorage {
  readonly atomic = false
  private setup: Promise<ReadTables> | undefined

  constructor(
    private readonly db: RethinkConnection,
    private readonly dbName: string,
    private readonly prefix: string,
    /** The store's table layout (durability, replicas, shards): read-model tables get the same. */
    private readonly tableOptions: TableCreateOptions,
    private readonly readLease: (name: string) => Promise<LeaseState | undefined>,
  ) {}

  private ready(): Promise<ReadTables> {
    this.setup ??= this.createMissing().catch((err: unknown) => {
      this.setup = undefined
      throw err
    })
    return this.setup
  }

  private async createMissing(): Promise<ReadTables> {
    const d = r.db(this.dbName)
    const existing = await this.db.read<string[]>(d.tableList(), 'list tables')
    for (const name of NAMES) {
      if (existing.includes(this.prefix + name)) continue
      await this.db.write(d.tableCreate(this.prefix + name, this.tableOptions), `create table "${this.prefix + name}"`, 'set-up').catch((err: unknown) => {
        if (!alreadyExists(err)) throw err
      })
    }
    await this.db.read(d.wait({ waitFor: 'all_replicas_ready' }), 'wait for tables', 'set-up')
    const t: ReadTables = {
      docs: d.table<DocRow>(`${this.prefix}read_documents`),
      index: d.table<IndexRow>(`${this.prefix}read_index`),
      versions: d.table<VersionRow>(`${this.prefix}read_models`),
      active: d.table<ActiveRow>(`${this.prefix}read_active`),
    }
    const wanted: Array<[RTable<DocRow> | RTable<IndexRow>, string, (row: RDatum) => unknown]> = [
      [t.docs, 'by_key', (row) => [row('model'), row('version'), row('key')]],
      // Rows without `value` (out of the index) make the function fail and are left out.
      [t.index, 'by_value', (row) => [row('model'), row('version'), row('name'), row('value'), row('key')]],
    ]
    for (const [table, name, fn] of wanted) {
      const indexes = await this.db.read<string[]>(table.indexList(), 'list indexes')
      if (!indexes.includes(name)) {
        await this.db.write(table.indexCreate(name, fn), `create index "${name}"`, 'set-up').catch((err: unknown) => {
          if (!alreadyExists(err)) throw err
        })
      }
      await this.db.read(table.indexWait(), 'wait for indexes', 'set-up')
    }
    return t
  }

  async info(model: string): Promise<ReadModelInfo> {
    const t = await this.ready()
    const active = await this.db.read<ActiveRow | null>(t.active.get(model), 'read the active version')
    const versions = await this.db.read<VersionRow[]>(t.versions.filter({ model }).coerceTo('array'), 'read versions')
    return { active: active?.version, versions: versions.map((v) => ({ version: v.version, checkpoint: v.checkpoint })).sort((a, b) => a.version - b.version) }
  }

  async activeCheckpoint(model: string): Promise<number> {
    const t = await this.ready()
    const active = await this.versionOf(t, model, undefined)
    if (active === undefined) return 0
    return (await this.db.read<VersionRow | null>(t.versions.get(versionKey(model, active)), 'read the checkpoint'))?.checkpoint ?? 0
  }

  async commit(batch: ReadModelBatch): Promise<CommitOutcome> {
    const t = await this.ready()
    const { model, version } = batch
    // Fencing is checked before writing, not with it: a runner deposed in between writes what
    // the new runner writes too (same events, same handlers), and positions keep it harmless.
    if (batch.lease) assertCurrentTerm(await this.readLease(batch.lease.name), batch.lease.name, batch.lease.term)
    const versionId = versionKey(model, version)
    const stored = await this.db.read<VersionRow | null>(t.versions.get(versionId), 'read the checkpoint')
    if ((stored?.checkpoint ?? 0) !== batch.from) return 'stale'
    if (batch.activate) {
      const active = await this.db.read<ActiveRow | null>(t.active.get(model), 'read the active version')
      if ((active?.version ?? 0) > version) return 'stale'
    }
    if (batch.writes.length > 0) {
      const docs: DocRow[] = batch.writes.map((w) => ({ id: docKey(model, version, w.key), model, version, key: w.key, position: w.position, ...(w.doc === undefined ? {} : { json: JSON.stringify(w.doc) }) }))
      checked(await this.db.write(t.docs.insert(docs, { conflict: (_id: RDatum, old: RDatum, fresh: RDatum) => r.branch(old('position').lt(fresh('position')), fresh, old) }), 'write documents'), 'write documents')
      // Index rows: one per (document, declared index); out of an index, a row keeps its position but no value.
      const names = new Set(batch.indexes ?? [])
      for (const w of batch.writes) for (const name in w.index) names.add(name)
      const rows: IndexRow[] = []
      for (const w of batch.writes) {
        for (const name of names) {
          const value = w.doc === undefined ? undefined : w.index[name]
          rows.push({ id: indexKey(model, version, name, w.key), model, version, name, key: w.key, position: w.position, ...(value === undefined ? {} : { value }) })
        }
      }
      if (rows.length > 0) {
        checked(await this.db.write(t.index.insert(rows, { conflict: (_id: RDatum, old: RDatum, fresh: RDatum) => r.branch(old('position').lt(fresh('position')), fresh, old) }), 'write index rows'), 'write index rows')
      }
    }
    checked(
      await this.db.write(
        t.versions.insert({ id: versionId, model, version, checkpoint: batch.to }, { conflict: (_id: RDatum, old: RDatum, fresh: RDatum) => r.branch(old('checkpoint').lt(fresh('checkpoint')), fresh, old) }),
        'write the checkpoint',
      ),
      'write the checkpoint',
    )
    if (batch.activate) {
      checked(
        await this.db.write(t.active.insert({ id: model, version }, { conflict: (_id: RDatum, old: RDatum, fresh: RDatum) => r.branch(old('version').le(fresh('version')), fresh, old) }), 'activate'),
        'activate',
      )
    }
    return 'committed'
  }

  async read(model: string, version: number, key: string): Promise<{ doc: unknown; position: number } | undefined> {
    const t = await this.ready()
    const row = await this.db.read<DocRow | null>(t.docs.get(docKey(model, version, key)), 'read a document')
    if (!row) return undefined
    return { doc: row.json === undefined ? undefined : parseStoredJson(row.json), position: row.position }
  }

  async get(model: string, key: string, version?: number): Promise<unknown> {
    const t = await this.ready()
    const v = await this.versionOf(t, model, version)
    if (v === undefined) return undefined
    const row = await this.db.read<DocRow | null>(t.docs.get(docKey(model, v, key)), 'read a document')
    return row?.json === undefined ? undefined : parseStoredJson(row.json)
  }

  async list(model: string, options: ListOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const t = await this.ready()
    const v = await this.versionOf(t, model, options.version)
    if (v === undefined) return { docs: [] }
    const lower = options.after === undefined ? [model, v, r.minval] : [model, v, options.after]
    const rows = await this.db.read<DocRow[]>(
      t.docs
        .between(lower, [model, v, r.maxval], { index: 'by_key', leftBound: options.after === undefined ? 'closed' : 'open' })
        .orderBy({ index: 'by_key' })
        .filter((row: RDatum) => row.hasFields('json'))
        .limit(limit + 1)
        .coerceTo('array'),
      'list documents',
    )
    return documentPage(rows, limit, (row) => row.json!, (last) => last.key)
  }

  async find(model: string, index: string, options: FindOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const t = await this.ready()
    const v = await this.versionOf(t, model, options.version)
    if (v === undefined) return { docs: [] }
    const range = encodedRange(options)
    const desc = options.order === 'desc'
    const after = options.after === undefined ? undefined : parseFindCursor(options.after)
    const prefix = [model, v, index]
    let lower: unknown[] = range.lower ? [...prefix, range.lower.value, range.lower.inclusive ? r.minval : r.maxval] : [...prefix, r.minval]
    let upper: unknown[] = range.upper ? [...prefix, range.upper.value, range.upper.inclusive ? r.maxval : r.minval] : [...prefix, r.maxval]
    let leftBound: 'open' | 'closed' = 'closed'
    let rightBound: 'open' | 'closed' = 'closed'
    if (after && !desc) {
      lower = [...prefix, after.value, after.key]
      leftBound = 'open'
    }
    if (after && desc) {
      upper = [...prefix, after.value, after.key]
      rightBound = 'open'
    }
    const rows = await this.db.read<IndexRow[]>(
      t.index
        .between(lower, upper, { index: 'by_value', leftBound, rightBound })
        .orderBy({ index: desc ? (r.desc('by_value') as unknown as string) : 'by_value' })
        .limit(limit + 1)
        .coerceTo('array'),
      'find documents',
    )
    const page = rows.slice(0, limit)
    const docs = page.length === 0 ? [] : await this.db.read<DocRow[]>(t.docs.getAll(r.args(page.map((row) => docKey(model, v, row.key)))).coerceTo('array'), 'read found documents')
    const byKey = new Map(docs.map((d) => [d.key, d]))
    const last = page.at(-1)
    return {
      docs: page.flatMap((row) => {
        const doc = byKey.get(row.key)
        return doc?.json === undefined ? [] : [{ key: row.key, doc: parseStoredJson(doc.json) }]
      }),
      ...(rows.length > limit && last ? { next: findCursor(last.value!, last.key) } : {}),
    }
  }

  async drop(model: string, version: number): Promise<void> {
    const t = await this.ready()
    const active = await this.db.read<ActiveRow | null>(t.active.get(model), 'read the active version')
    if (active?.version === version) return
    await this.db.write(t.index.filter({ model, version }).delete(), 'drop index rows')
    await this.db.write(t.docs.between([model, version, r.minval], [model, version, r.maxval], { index: 'by_key' }).delete(), 'drop documents')
    await this.db.write(t.versions.get(versionKey(model, version)).delete(), 'drop the checkpoint')
  }

  private async versionOf(t: ReadTables, model: string, version: number | undefined): Promise<number | undefined> {
    if (version !== undefined) return version
    return (await this.db.read<ActiveRow | null>(t.active.get(model), 'read the active version'))?.version
  }
}

// Deterministic ids within the 127-byte limit of primary keys: hex of the key text.
function docKey(model: string, version: number, key: string): string {
  return shortKey(JSON.stringify(['d', model, version, key]))
}

function indexKey(model: string, version: number, name: string, key: string): string {
  return shortKey(JSON.stringify(['i', model, version, name, key]))
}

function versionKey(model: string, version: number): string {
  return shortKey(JSON.stringify(['v', model, version]))
}

/** The text itself when short enough, else its start, length and a 64-bit hash (two FNV-1a variants). */
function shortKey(text: string): string {
  if (text.length <= 40) return text
  let a = 0x811c9dc5
  let b = 0x01000193
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193) >>> 0
    b = Math.imul(b ^ c, 0x811c9dc5) >>> 0
  }
  return `${text.slice(0, 60)}#${text.length}#${a.toString(16)}${b.toString(16)}`
}

function checked(result: WriteResult<unknown>, what: string): void {
  if (result.errors > 0) throw new StorageError(`RethinkDB ${what} failed: ${result.first_error ?? 'unknown error'}`, { code: 'STORAGE' })
}
