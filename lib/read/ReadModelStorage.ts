import { parseStoredJson } from '../safeData.js'

/**
 * The value of one declared index of a document: what `find` filters and orders by.
 * `undefined` leaves the document out of that index.
 */
export type IndexValue = string | number | undefined

/** One document written by a batch: `doc` undefined deletes it. */
export interface DocumentWrite {
  readonly key: string
  readonly doc: unknown
  /** The document's value in each declared index (encoded by `encodeIndexValue`), absent ones left out. */
  readonly index: Readonly<Record<string, string>>
  /** The position of the last event this document reflects (engines without transactions refuse older writes). */
  readonly position: number
}

/**
 * What one runner applied: the documents it changed and the checkpoint it moved, as one unit.
 * `from` is the checkpoint the runner started from: a batch whose `from` no longer matches the
 * stored checkpoint was applied by someone else already and is refused as `'stale'`.
 */
export interface ReadModelBatch {
  readonly model: string
  readonly version: number
  /** The checkpoint before this batch (0 for a version not built yet). */
  readonly from: number
  /** The checkpoint after it: the position of the last event it covers. */
  readonly to: number
  readonly writes: readonly DocumentWrite[]
  /** The model's declared index names (an engine that keeps index rows apart updates every one of them). */
  readonly indexes?: readonly string[]
  /** Make `version` the one queries answer from (refused if a newer version is active). */
  readonly activate?: boolean
  /** Fencing: the batch lands only if `term` is still the lease's current term. */
  readonly lease?: { readonly name: string; readonly term: number }
}

/** What `commit` did: stored it, or refused it because the checkpoint had moved (or the version was dropped). */
export type CommitOutcome = 'committed' | 'stale'

/** The stored versions of one read model. */
export interface ReadModelInfo {
  /** The version queries answer from; undefined before any version was activated. */
  readonly active: number | undefined
  /** Each stored version and the position it has applied up to. */
  readonly versions: ReadonlyArray<{ readonly version: number; readonly checkpoint: number }>
}

/** A page of documents, and the cursor of the next page when there may be one. */
export interface DocumentPage<D = unknown> {
  readonly docs: ReadonlyArray<{ readonly key: string; readonly doc: D }>
  /** Pass as `after` to read the next page; absent on the last page. */
  readonly next?: string
}

/** Options of `list`: documents in key order. */
export interface ListOptions {
  readonly limit?: number
  /** The `next` cursor of the previous page. */
  readonly after?: string
  /** Default: the active version. */
  readonly version?: number
}

/** Options of `find`: documents by the value of one declared index. */
export interface FindOptions {
  readonly eq?: string | number
  readonly gt?: string | number
  readonly gte?: string | number
  readonly lt?: string | number
  readonly lte?: string | number
  /** By index value, then key. Default `'asc'`. */
  readonly order?: 'asc' | 'desc'
  readonly limit?: number
  readonly after?: string
  readonly version?: number
}

/**
 * The read-model operations of a store: documents by (model, version, key), each version's
 * checkpoint, and the active version. SQLite and PostgreSQL commit a batch in one transaction;
 * RethinkDB writes each document idempotently (a document refuses a write older than the
 * position it reflects). Queries take the active version in the same statement as the
 * documents, so a switch of version is seen whole or not at all.
 *
 * @example
 * const storage = store.readModels?.()
 * await storage?.commit({ model: 'follows', version: 1, from: 0, to: 12, writes: [], activate: true })
 */
export interface ReadModelStorage {
  /** True when `commit` is one transaction (documents, checkpoint and lease check together). */
  readonly atomic: boolean
  info(model: string): Promise<ReadModelInfo>
  /** The checkpoint of the active version (0 when none). */
  activeCheckpoint(model: string): Promise<number>
  commit(batch: ReadModelBatch): Promise<CommitOutcome>
  /** A document and the position it reflects. */
  read(model: string, version: number, key: string): Promise<{ doc: unknown; position: number } | undefined>
  get(model: string, key: string, version?: number): Promise<unknown>
  list(model: string, options?: ListOptions): Promise<DocumentPage>
  find(model: string, index: string, options?: FindOptions): Promise<DocumentPage>
  /** Removes a version's documents and checkpoint (never the active one). */
  drop(model: string, version: number): Promise<void>
}

/** A store that keeps read models beside its events. */
export interface ReadModelStorageProvider {
  readModels(): ReadModelStorage
}

/** The default and largest page of `list` and `find`. */
export const DEFAULT_PAGE = 100
export const MAX_PAGE = 10_000

/** A page size within bounds. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a page limit must be a whole number >= 1, got ${limit}`)
  return Math.min(limit, MAX_PAGE)
}

/**
 * The page `list` and `find` return from the rows an engine read, in order, with a limit of
 * `limit + 1`: the first `limit` parsed, and `next` (from the page's last row) when one was left.
 */
export function documentPage<R extends { readonly key: string }>(rows: readonly R[], limit: number, json: (row: R) => string, next: (last: R) => string): DocumentPage {
  const page = rows.slice(0, limit)
  return { docs: page.map((row) => ({ key: row.key, doc: parseStoredJson(json(row)) })), ...(rows.length > limit ? { next: next(page.at(-1)!) } : {}) }
}
