import { r, type RDatum, type RTable } from 'rethinkdb-ts'
import type { CheckpointDoc, CommitDoc, HeadDoc, LeaseDoc, SequenceEntry, SnapshotDoc } from './documents.js'
import { alreadyExists, writeOutcome } from './failures.js'
import type { RethinkConnection } from './RethinkConnection.js'

/** The tables of one store, named `<prefix><name>`. */
export interface Tables {
  /** Commits, and the tombstones of fencing (see leases.ts) under the same keys. */
  readonly commits: RTable<CommitDoc>
  readonly sequence: RTable<SequenceEntry>
  readonly meta: RTable<HeadDoc>
  readonly snapshots: RTable<SnapshotDoc>
  readonly checkpoints: RTable<CheckpointDoc>
  readonly leases: RTable<LeaseDoc>
}

const NAMES = ['commits', 'sequence', 'meta', 'snapshots', 'checkpoints', 'leases'] as const

export function tablesOf(db: string, prefix: string): Tables {
  const d = r.db(db)
  return {
    commits: d.table<CommitDoc>(`${prefix}commits`),
    sequence: d.table<SequenceEntry>(`${prefix}sequence`),
    meta: d.table<HeadDoc>(`${prefix}meta`),
    snapshots: d.table<SnapshotDoc>(`${prefix}snapshots`),
    checkpoints: d.table<CheckpointDoc>(`${prefix}checkpoints`),
    leases: d.table<LeaseDoc>(`${prefix}leases`),
  }
}

/**
 * Secondary indexes of `commits`. A document for which an index function fails (a tombstone
 * has no `stream`; a pending commit has no `position`) is simply left out of that index.
 */
const COMMIT_INDEXES: ReadonlyArray<{ name: string; fn: (row: RDatum) => unknown; multi?: boolean }> = [
  // Ordered reads of a stream and its current version.
  { name: 'stream_to', fn: (row) => [row('stream'), row('to')] },
  // Idempotent retries: which commit holds an event id.
  { name: 'event_ids', fn: (row) => row('events').map((e: RDatum) => e('id')), multi: true },
  // Commits still waiting for a position.
  { name: 'pending', fn: (row) => row('pending') },
  // readAll and subscriptions: commits by the position of their last event.
  { name: 'last', fn: (row) => row('position').add(row('count')).sub(1) },
  { name: 'stream_last', fn: (row) => [row('stream'), row('position').add(row('count')).sub(1)] },
]

/**
 * Creates the database, tables and indexes that are missing and waits until they are ready.
 * Safe when several processes start at once: "already exists" from a racing creator is success.
 */
export async function ensureSchema(db: RethinkConnection, dbName: string, prefix: string): Promise<Tables> {
  const ignoreExisting = (err: unknown) => {
    if (!alreadyExists(err)) throw err
  }
  const dbs = await db.read<string[]>(r.dbList(), 'list databases')
  if (!dbs.includes(dbName)) await db.write(r.dbCreate(dbName), `create database "${dbName}"`).catch(ignoreExisting)
  const existing = await db.read<string[]>(r.db(dbName).tableList(), 'list tables')
  for (const name of NAMES) {
    if (existing.includes(prefix + name)) continue
    await db.write(r.db(dbName).tableCreate(prefix + name, { durability: 'hard' }), `create table "${prefix + name}"`).catch(ignoreExisting)
  }
  await db.read(r.db(dbName).wait({ waitFor: 'all_replicas_ready' }), 'wait for tables')
  const tables = tablesOf(dbName, prefix)
  const indexes = await db.read<string[]>(tables.commits.indexList(), 'list indexes')
  for (const index of COMMIT_INDEXES) {
    if (indexes.includes(index.name)) continue
    await db.write(tables.commits.indexCreate(index.name, index.fn, { multi: index.multi ?? false }), `create index "${index.name}"`).catch(ignoreExisting)
  }
  await db.read(tables.commits.indexWait(), 'wait for indexes')
  const head: HeadDoc = { id: 'head', seq: 0, position: 0 }
  writeOutcome(await db.write(tables.meta.insert(head, { conflict: 'error' }), 'create the head'), 'create the head')
  return tables
}
