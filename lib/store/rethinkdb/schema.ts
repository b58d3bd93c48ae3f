import type { RDatum, RSingleSelection, RStream, RTable, TableCreateOptions } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import { InvalidOptionsError } from '../../errors.js'
import { HEAD_KEY, type CheckpointDoc, type CommitDoc, type HeadDoc, type IdClaimDoc, type LeaseDoc, type SequenceEntry, type SnapshotDoc } from './documents.js'
import { alreadyExists, failureText, SKIPPED_WRITE, writeOutcome } from './failures.js'
import type { TableLayout } from './options.js'
import type { RethinkConnection } from './RethinkConnection.js'

/** The tables of one store, named `<prefix><name>`. */
export interface Tables {
  /** Commits, and tombstones under the same keys (fencing, abandoned ids, closed log entries: TombstoneDoc). */
  readonly commits: RTable<CommitDoc>
  /** The `log` table, seen as its log entries (keys 1 to MAX_ENTRY). */
  readonly entries: RTable<SequenceEntry>
  /** The `log` table, seen as its event id claims (event id -> the commit that owns it: RethinkDB has no unique secondary index). */
  readonly claims: RTable<IdClaimDoc>
  /** The head document, in the `log` table. */
  readonly head: RSingleSelection<HeadDoc | null>
  readonly snapshots: RTable<SnapshotDoc>
  readonly checkpoints: RTable<CheckpointDoc>
  readonly leases: RTable<LeaseDoc>
}

/** The five tables, as named after the prefix. */
export const TABLE_NAMES = ['commits', 'log', 'snapshots', 'checkpoints', 'leases'] as const

/** Tables of an earlier layout, whose documents now live in `log` (moved there by `ensureSchema`). */
const FORMER_LOG_TABLES = ['sequence', 'meta', 'ids'] as const

/**
 * The options every table is created with: hard durability, and the layout asked for. Checked
 * here, before any server sees them, so a typo fails at construction rather than at first use.
 */
export function tableCreateOptions(layout: TableLayout): TableCreateOptions {
  const { replicas, primaryReplicaTag, shards } = layout
  const fail = (detail: string) => new InvalidOptionsError('RethinkStore', [], ['replicas', 'primaryReplicaTag', 'shards'], detail)
  const whole = (n: unknown, min: number, max: number) => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max
  if (shards !== undefined && !whole(shards, 1, 64)) throw fail(`shards must be a whole number from 1 to 64, got ${String(shards)}`)
  if (typeof replicas === 'object' && replicas !== null) {
    const tags = Object.entries(replicas)
    if (tags.length === 0 || tags.some(([, n]) => !whole(n, 0, 1_000))) throw fail('replicas per tag must be whole numbers, such as { dc1: 2, dc2: 1 }')
    if (primaryReplicaTag === undefined || !(primaryReplicaTag in replicas) || !whole(replicas[primaryReplicaTag], 1, 1_000)) {
      throw fail(`with replicas per tag, primaryReplicaTag must name a tag that has replicas (${tags.map(([t]) => t).join(', ')}), got ${String(primaryReplicaTag)}`)
    }
  } else if (replicas !== undefined && !whole(replicas, 1, 1_000)) {
    throw fail(`replicas must be a whole number of at least 1, or a number per server tag, got ${String(replicas)}`)
  } else if (primaryReplicaTag !== undefined) {
    throw fail('primaryReplicaTag goes with replicas per tag, such as { replicas: { dc1: 2, dc2: 1 }, primaryReplicaTag: "dc1" }')
  }
  return {
    durability: 'hard',
    ...(shards === undefined ? {} : { shards }),
    ...(replicas === undefined ? {} : { replicas: typeof replicas === 'number' ? replicas : { ...replicas } }),
    ...(primaryReplicaTag === undefined ? {} : { primaryReplicaTag }),
  }
}

export function tablesOf(db: string, prefix: string): Tables {
  const d = r.db(db)
  return {
    commits: d.table<CommitDoc>(`${prefix}commits`),
    entries: d.table<SequenceEntry>(`${prefix}log`),
    claims: d.table<IdClaimDoc>(`${prefix}log`),
    head: d.table<HeadDoc>(`${prefix}log`).get(HEAD_KEY),
    snapshots: d.table<SnapshotDoc>(`${prefix}snapshots`),
    checkpoints: d.table<CheckpointDoc>(`${prefix}checkpoints`),
    leases: d.table<LeaseDoc>(`${prefix}leases`),
  }
}

/**
 * Secondary indexes of `commits`, as few as the reads need: each one costs the server work on
 * every insert. A document for which an index function fails (a tombstone has no `stream`) is
 * simply left out of that index. (Which commit holds an event id is in the `log` table.)
 */
const COMMIT_INDEXES: ReadonlyArray<{ name: string; fn: (row: RDatum) => unknown; multi?: boolean }> = [
  // Ordered reads of a stream, its current version, and an append's predecessor.
  { name: 'stream_to', fn: (row) => [row('stream'), row('to')] },
  // readAll and subscriptions: commits by the position of their last event.
  { name: 'last', fn: (row) => row('position').add(row('count')).sub(1) },
  { name: 'stream_last', fn: (row) => [row('stream'), row('position').add(row('count')).sub(1)] },
]

const SETUP_ATTEMPTS = 8
const SYSTEM = r.db('rethinkdb')

/**
 * Creates the database, tables and indexes that are missing and waits until they are ready.
 * Several processes may start at once, and RethinkDB then creates two databases or tables of
 * the same name (its name check is not atomic with the creation). So after creating, every
 * process keeps the same survivor, the one with the lowest id, and deletes the others while
 * they are still empty; a query that met the ambiguity meanwhile starts the set-up again.
 */
export async function ensureSchema(db: RethinkConnection, dbName: string, prefix: string, create: TableCreateOptions = { durability: 'hard' }): Promise<Tables> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await createMissing(db, dbName, prefix, create)
    } catch (err) {
      // A former table another process is dropping (moveFormerLog) answers that its primary
      // replica is not available or lost: the next round no longer lists it.
      if (attempt >= SETUP_ATTEMPTS || !/ambiguous|does not exist|already exists|primary replica/.test(failureText(err))) throw err
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150))
    }
  }
}

async function createMissing(db: RethinkConnection, dbName: string, prefix: string, create: TableCreateOptions): Promise<Tables> {
  const ignoreExisting = (err: unknown) => {
    if (!alreadyExists(err)) throw err
  }
  const dbs = await db.read<string[]>(r.dbList(), 'list databases')
  if (!dbs.includes(dbName)) await db.write(r.dbCreate(dbName), `create database "${dbName}"`, 'set-up').catch(ignoreExisting)
  await keepOneOfEach(db, SYSTEM.table('db_config').filter({ name: dbName }), 'database')
  const names = TABLE_NAMES.map((name) => prefix + name)
  const existing = await db.read<string[]>(r.db(dbName).tableList(), 'list tables')
  for (const name of names) {
    if (existing.includes(name)) continue
    await db.write(r.db(dbName).tableCreate(name, create), `create table "${name}"`, 'set-up').catch(ignoreExisting)
  }
  const ours = SYSTEM.table('table_config').filter((t: RDatum) => t('db').eq(dbName).and(r.expr(names).contains(t('name'))))
  await keepOneOfEach(db, ours, 'table')
  await db.read(r.db(dbName).wait({ waitFor: 'all_replicas_ready' }), 'wait for tables', 'set-up')
  const tables = tablesOf(dbName, prefix)
  const indexes = await db.read<string[]>(tables.commits.indexList(), 'list indexes')
  for (const index of COMMIT_INDEXES) {
    if (indexes.includes(index.name)) continue
    await db.write(tables.commits.indexCreate(index.name, index.fn, { multi: index.multi ?? false }), `create index "${index.name}"`, 'set-up').catch(ignoreExisting)
  }
  await db.read(tables.commits.indexWait(), 'wait for indexes', 'set-up')
  // A twin created by a late racer shows up here at the latest, before anything is written.
  await keepOneOfEach(db, ours, 'table')
  await moveFormerLog(db, dbName, prefix, existing)
  const head: HeadDoc = { id: HEAD_KEY, seq: 0, position: 0 }
  writeOutcome(await db.write(r.db(dbName).table<HeadDoc>(`${prefix}log`).insert(head, { conflict: 'error' }), 'create the head'), 'create the head')
  return tables
}

/**
 * Moves the head, log entries and id claims of the earlier layout (tables `sequence`, `meta`
 * and `ids`) into `log`, then drops those tables. Safe to run in several processes at once:
 * the copies are idempotent and never replace what `log` holds, and the highest head wins.
 * Processes of the earlier release must not write meanwhile (stop them before upgrading).
 */
async function moveFormerLog(db: RethinkConnection, dbName: string, prefix: string, existing: readonly string[]): Promise<void> {
  const former = FORMER_LOG_TABLES.filter((name) => existing.includes(prefix + name))
  if (former.length === 0) return
  const d = r.db(dbName)
  const log = d.table(`${prefix}log`)
  const keepHighest = (_id: RDatum, old: RDatum, fresh: RDatum): RDatum => r.branch(fresh('seq').gt(old('seq')), fresh, old)
  if (former.includes('meta')) {
    const head: RDatum = d.table(`${prefix}meta`).get('head')
    const moved = d.table(`${prefix}meta`).get('head').do((h: RDatum) => r.branch(h.eq(null), SKIPPED_WRITE, log.insert(head.merge({ id: HEAD_KEY }), { conflict: keepHighest, durability: 'hard' })))
    writeOutcome(await db.write(moved, 'move the head'), 'move the head')
  }
  // A document already in `log` is as new as its copy or newer (another process of this release
  // may have taken a claim over meanwhile): it stays, so a late copy never turns a claim back.
  const keepLog = (_id: RDatum, old: RDatum, _copy: RDatum): RDatum => old
  for (const name of ['sequence', 'ids'] as const) {
    if (!former.includes(name)) continue
    const copied = await db.write(log.insert(d.table(prefix + name), { conflict: keepLog, durability: 'hard' }), `move "${prefix}${name}"`, 'set-up')
    if (copied.errors > 0) writeOutcome(copied, `move "${prefix}${name}"`)
  }
  for (const name of former) await db.write(d.tableDrop(prefix + name), `drop "${prefix}${name}"`, 'set-up').catch((err: unknown) => {
    if (!/does not exist/.test(failureText(err))) throw err
  })
}

/** Of several system config rows with one name, keeps the lowest id (the same choice in every process). */
async function keepOneOfEach(db: RethinkConnection, rows: RStream, what: string): Promise<void> {
  const configs = await db.read<Array<{ id: string; name: string }>>(rows.pluck('id', 'name').coerceTo('array'), `list ${what}s`)
  const kept = new Map<string, string>()
  for (const c of [...configs].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!kept.has(c.name)) {
      kept.set(c.name, c.id)
      continue
    }
    // Deleting the config row drops the twin, which nobody has written to yet.
    const table = what === 'database' ? 'db_config' : 'table_config'
    writeOutcome(await db.write(SYSTEM.table(table).get(c.id).delete(), `drop a twin ${what} "${c.name}"`), `drop a twin ${what} "${c.name}"`)
  }
}
