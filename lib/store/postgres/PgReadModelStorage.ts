import type pg from 'pg'
import { StorageError, isOmniscientError } from '../../errors.js'
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
import type { PgCalls } from './PgCalls.js'
import { ident } from './schema.js'

// Keys, names and index values compare byte by byte (COLLATE "C"), as on the other engines.
// read_index holds each document's declared index values, so `find` is one b-tree range scan.
function tables(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.read_models (
  model TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, checkpoint BIGINT NOT NULL, PRIMARY KEY (model, version));
CREATE TABLE IF NOT EXISTS ${s}.read_active (model TEXT COLLATE "C" PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.read_documents (
  model TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, key TEXT COLLATE "C" NOT NULL, doc TEXT NOT NULL, position BIGINT NOT NULL,
  PRIMARY KEY (model, version, key));
CREATE TABLE IF NOT EXISTS ${s}.read_index (
  model TEXT COLLATE "C" NOT NULL, version INTEGER NOT NULL, name TEXT COLLATE "C" NOT NULL, value TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (model, version, name, value, key));
CREATE INDEX IF NOT EXISTS read_index_by_key ON ${s}.read_index (model, version, key);
`
}

// A second key for the set-up lock: two processes creating the tables at once would collide.
const SETUP_LOCK = 0x6f6d6e72 // "omnr"

/**
 * Read models in the PgStore's schema, through its pool: a batch's documents, index rows,
 * checkpoint, activation and lease check are one transaction. The lease row is read FOR SHARE,
 * so a change of holder waits for the batch, and a deposed runner's batch is refused.
 *
 * @example
 * const storage = new PgStore({ connectionString }).readModels()
 */
export class PgReadModelStorage implements ReadModelStorage {
  readonly atomic = true
  private readonly s: string
  private readonly version: string
  private setup: Promise<void> | undefined

  constructor(
    private readonly calls: PgCalls,
    private readonly schema: string,
    /** Resolves once the store's schema is migrated (it tries again after a failed start). */
    private readonly storeReady: () => Promise<void>,
    private readonly assertOpen: () => void = () => {},
  ) {
    this.s = ident(schema)
    // The version a query reads: the one asked for, else the active one, in the same statement.
    this.version = `coalesce($2::integer, (SELECT version FROM ${this.s}.read_active WHERE model = $1))`
  }

  private ready(): Promise<void> {
    this.setup ??= (async () => {
      await this.storeReady()
      await this.calls.withClient('read model set-up', 'STORAGE_UNAVAILABLE', async (client) => {
        try {
          await client.query('BEGIN')
          await client.query(`SELECT pg_advisory_xact_lock(${SETUP_LOCK}, hashtext($1))`, [this.schema])
          await client.query(tables(this.s))
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw err
        }
      })
    })().catch((err: unknown) => {
      this.setup = undefined
      throw this.typed(err, 'set-up')
    })
    return this.setup
  }

  async info(model: string): Promise<ReadModelInfo> {
    const active = await this.query<{ version: number }>(`SELECT version FROM ${this.s}.read_active WHERE model = $1`, [model])
    const versions = await this.query<{ version: number; checkpoint: string }>(`SELECT version, checkpoint FROM ${this.s}.read_models WHERE model = $1 ORDER BY version`, [model])
    return { active: active[0]?.version, versions: versions.map((v) => ({ version: v.version, checkpoint: Number(v.checkpoint) })) }
  }

  async activeCheckpoint(model: string): Promise<number> {
    const rows = await this.query<{ checkpoint: string }>(
      `SELECT checkpoint FROM ${this.s}.read_models WHERE model = $1 AND version = (SELECT version FROM ${this.s}.read_active WHERE model = $1)`,
      [model],
    )
    return rows[0] ? Number(rows[0].checkpoint) : 0
  }

  async commit(batch: ReadModelBatch): Promise<CommitOutcome> {
    this.assertOpen()
    await this.ready()
    const s = this.s
    const { model, version } = batch
    try {
      // A batch that misses its deadline may have committed: STORAGE_INDETERMINATE. The runner
      // starts again from the stored checkpoint, which says whether it did.
      return await this.calls.withClient(`commit of read model "${model}" v${version}`, 'STORAGE_INDETERMINATE', async (client) => {
        try {
          await client.query('BEGIN')
          // A client paused inside this transaction must not hold the rows for ever.
          await client.query("SET LOCAL idle_in_transaction_session_timeout = '5s'")
          if (batch.lease) {
            const rows = await client.query<{ holder: string; term: number; expires_at: string }>(`SELECT holder, term, expires_at FROM ${s}.leases WHERE name = $1 FOR SHARE`, [batch.lease.name])
            const row = rows.rows[0]
            assertCurrentTerm(row && row.term > 0 ? { name: batch.lease.name, holder: row.holder, term: row.term, expiresAt: Number(row.expires_at) } : undefined, batch.lease.name, batch.lease.term)
          }
          await client.query(`INSERT INTO ${s}.read_models (model, version, checkpoint) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, [model, version])
          const current = await client.query<{ checkpoint: string }>(`SELECT checkpoint FROM ${s}.read_models WHERE model = $1 AND version = $2 FOR UPDATE`, [model, version])
          let stale = Number(current.rows[0]!.checkpoint) !== batch.from
          if (!stale && batch.activate) {
            const active = await client.query<{ version: number }>(`SELECT version FROM ${s}.read_active WHERE model = $1 FOR UPDATE`, [model])
            stale = (active.rows[0]?.version ?? 0) > version
          }
          if (stale) {
            await client.query('ROLLBACK')
            return 'stale'
          }
          const keys = batch.writes.map((w) => w.key)
          if (keys.length > 0) {
            await client.query(`DELETE FROM ${s}.read_index WHERE model = $1 AND version = $2 AND key = ANY($3::text[])`, [model, version, keys])
            const deleted = batch.writes.filter((w) => w.doc === undefined).map((w) => w.key)
            if (deleted.length > 0) await client.query(`DELETE FROM ${s}.read_documents WHERE model = $1 AND version = $2 AND key = ANY($3::text[])`, [model, version, deleted])
            const kept = batch.writes.filter((w) => w.doc !== undefined)
            if (kept.length > 0) {
              await client.query(
                `INSERT INTO ${s}.read_documents (model, version, key, doc, position)
                 SELECT $1, $2, k, d, p FROM unnest($3::text[], $4::text[], $5::bigint[]) AS t(k, d, p)
                 ON CONFLICT (model, version, key) DO UPDATE SET doc = excluded.doc, position = excluded.position`,
                [model, version, kept.map((w) => w.key), kept.map((w) => JSON.stringify(w.doc)), kept.map((w) => w.position)],
              )
              const names: string[] = []
              const values: string[] = []
              const indexed: string[] = []
              for (const w of kept) {
                for (const name in w.index) {
                  names.push(name)
                  values.push(w.index[name]!)
                  indexed.push(w.key)
                }
              }
              if (names.length > 0) {
                await client.query(
                  `INSERT INTO ${s}.read_index (model, version, name, value, key) SELECT $1, $2, n, v, k FROM unnest($3::text[], $4::text[], $5::text[]) AS t(n, v, k) ON CONFLICT DO NOTHING`,
                  [model, version, names, values, indexed],
                )
              }
            }
          }
          await client.query(`UPDATE ${s}.read_models SET checkpoint = $3 WHERE model = $1 AND version = $2`, [model, version, batch.to])
          if (batch.activate) {
            await client.query(`INSERT INTO ${s}.read_active (model, version) VALUES ($1, $2) ON CONFLICT (model) DO UPDATE SET version = $2`, [model, version])
          }
          await client.query('COMMIT')
          return 'committed'
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw err
        }
      })
    } catch (err) {
      throw this.typed(err, `commit of read model "${model}" v${version}`)
    }
  }

  async read(model: string, version: number, key: string): Promise<{ doc: unknown; position: number } | undefined> {
    const rows = await this.query<{ doc: string; position: string }>(`SELECT doc, position FROM ${this.s}.read_documents WHERE model = $1 AND version = $2 AND key = $3`, [model, version, key])
    return rows[0] && { doc: parseStoredJson(rows[0].doc), position: Number(rows[0].position) }
  }

  async get(model: string, key: string, version?: number): Promise<unknown> {
    const rows = await this.query<{ doc: string }>(`SELECT doc FROM ${this.s}.read_documents WHERE model = $1 AND version = ${this.version} AND key = $3`, [model, version ?? null, key])
    return rows[0] && parseStoredJson(rows[0].doc)
  }

  async list(model: string, options: ListOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const after = options.after === undefined ? '' : 'AND key > $4'
    const params: unknown[] = [model, options.version ?? null, limit + 1]
    if (options.after !== undefined) params.push(options.after)
    const rows = await this.query<{ key: string; doc: string }>(`SELECT key, doc FROM ${this.s}.read_documents WHERE model = $1 AND version = ${this.version} ${after} ORDER BY key LIMIT $3`, params)
    return documentPage(rows, limit, (r) => r.doc, (last) => last.key)
  }

  async find(model: string, index: string, options: FindOptions = {}): Promise<DocumentPage> {
    const limit = pageSize(options.limit)
    const range = encodedRange(options)
    const desc = options.order === 'desc'
    const after = options.after === undefined ? undefined : parseFindCursor(options.after)
    const params: unknown[] = [model, options.version ?? null, index]
    const where = ['i.model = $1', `i.version = ${this.version}`, 'i.name = $3']
    const param = (value: unknown) => `$${params.push(value)}`
    if (range.lower) where.push(`i.value ${range.lower.inclusive ? '>=' : '>'} ${param(range.lower.value)}`)
    if (range.upper) where.push(`i.value ${range.upper.inclusive ? '<=' : '<'} ${param(range.upper.value)}`)
    if (after) where.push(`(i.value, i.key) ${desc ? '<' : '>'} (${param(after.value)}, ${param(after.key)})`)
    const dir = desc ? 'DESC' : 'ASC'
    const rows = await this.query<{ key: string; value: string; doc: string }>(
      `SELECT i.key, i.value, d.doc FROM ${this.s}.read_index i JOIN ${this.s}.read_documents d ON d.model = i.model AND d.version = i.version AND d.key = i.key
       WHERE ${where.join(' AND ')} ORDER BY i.value ${dir}, i.key ${dir} LIMIT ${param(limit + 1)}`,
      params,
    )
    return documentPage(rows, limit, (r) => r.doc, (last) => findCursor(last.value, last.key))
  }

  async drop(model: string, version: number): Promise<void> {
    const s = this.s
    // One statement: the active version is checked in the same snapshot as the deletes.
    await this.query(
      `WITH keep AS (SELECT 1 FROM ${s}.read_active WHERE model = $1 AND version = $2),
       a AS (DELETE FROM ${s}.read_index WHERE model = $1 AND version = $2 AND NOT EXISTS (SELECT 1 FROM keep)),
       b AS (DELETE FROM ${s}.read_documents WHERE model = $1 AND version = $2 AND NOT EXISTS (SELECT 1 FROM keep))
       DELETE FROM ${s}.read_models WHERE model = $1 AND version = $2 AND NOT EXISTS (SELECT 1 FROM keep)`,
      [model, version],
    )
  }

  private async query<R extends pg.QueryResultRow>(text: string, params: unknown[]): Promise<R[]> {
    this.assertOpen()
    await this.ready()
    try {
      return await this.calls.query<R>(text, params, 'read model query')
    } catch (err) {
      throw this.typed(err, 'query')
    }
  }

  private typed(err: unknown, what: string): unknown {
    if (isOmniscientError(err) || err instanceof RangeError) return err
    return new StorageError(`PostgreSQL read model storage: ${what} failed: ${(err as Error).message}`, { cause: err })
  }
}
