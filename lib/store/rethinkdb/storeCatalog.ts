import type { RDatum } from 'rethinkdb-ts'
import { r } from './rethinkDriver.js'
import type { CheckpointState, ListStreamsOptions, StreamInfo } from '../StoreCatalog.js'
import type { LeaseState } from '../StorageAdapter.js'
import type { CommitDoc } from './documents.js'
import type { RethinkConnection } from './RethinkConnection.js'
import type { Tables } from './schema.js'

// RethinkStore's store-wide reads for tools (see ../StoreCatalog.ts). Read-only queries.

// r.desc() is typed `any` by rethinkdb-ts.
const NEWEST_FIRST = r.desc('stream_last') as unknown as string
// Streams looked at per round trip while a `contains` filter skips most of them.
const FILTERED_STEPS = 500

/**
 * The head's position as a query: commits whose last event is past it are not visible yet (see
 * Log.ts). The one place this file knows where the head is kept.
 */
function headPosition(t: Tables): RDatum {
  return t.head('position').default(0)
}

/** The first stream id after `after` in the `stream_last` index, or null: one index seek. */
function nextStream(t: Tables, after: RDatum<string>): RDatum {
  return t.commits
    .between([after, r.maxval], r.maxval, { index: 'stream_last', leftBound: 'open' })
    .orderBy({ index: 'stream_last' })
    .limit(1)
    .coerceTo('array')
    .map((c: RDatum<CommitDoc>) => c('stream'))
    .nth(0)
    .default(null)
}

/**
 * The stream's newest commit at or below the head, as a StreamInfo, in an array of one (or
 * none when every commit of it is above the head): one index seek, newest first. Tombstones
 * have no `stream`, so the index never holds them.
 */
function newestVisible(t: Tables, streamId: RDatum<string>, head: RDatum<number>): RDatum {
  return t.commits
    .between([streamId, r.minval], [streamId, head], { index: 'stream_last', rightBound: 'closed' })
    .orderBy({ index: NEWEST_FIRST })
    .limit(1)
    .map((c: RDatum<CommitDoc>) => ({ streamId: c('stream'), version: c('to'), lastPosition: c('position').add(c('count')).sub(1), lastAt: c('events').nth(-1)('at') }))
    .coerceTo('array')
}

/** Whether the id holds `contains` (literally: split takes no pattern). */
function holds(streamId: RDatum<string>, contains: string): RDatum<boolean> {
  return contains === '' ? r.expr(true) : streamId.split(contains).count().gt(1)
}

interface Walk {
  /** The last stream id looked at. */
  after: string
  /** No stream after it. */
  done: boolean
}

/**
 * Up to `steps` streams after `after`, walked on the server one index seek at a time (a skip
 * scan: the index holds one entry per commit, and only the first of each stream is visited).
 * Emits the visible ones that hold `contains`, then where the walk stopped.
 */
function walk(t: Tables, after: string, contains: string, steps: number): RDatum<Array<StreamInfo | Walk>> {
  return headPosition(t).do((head: RDatum<number>) =>
    r.range(steps).fold<Walk>(
      { after, done: false },
      (acc: RDatum<Walk>, _step: RDatum) => r.branch(acc('done'), acc, nextStream(t, acc('after')).do((next: RDatum<string | null>) => r.branch(next.eq(null), acc.merge({ done: true }), { after: next, done: false }))),
      {
        emit: (before: RDatum<Walk>, _step: RDatum, acc: RDatum<Walk>) => r.branch(before('done').or(acc('done')).or(holds(acc('after'), contains).not()), [], newestVisible(t, acc('after'), head)) as unknown as unknown[],
        finalEmit: (acc: unknown) => [acc],
      },
    ),
  ) as unknown as RDatum<Array<StreamInfo | Walk>>
}

/**
 * Streams in id order with the version and last event of their newest commit at or below the
 * head. Costs two index seeks on `stream_last` per stream looked at (every stream between
 * `after` and the last one listed, so a rare `contains` looks at many), in round trips of up to
 * `limit` streams (at least 500 with `contains`); never reads a stream's other commits.
 * `options` are checked already (`checkListStreams`).
 */
export async function rethinkListStreams(db: RethinkConnection, t: Tables, options: Required<ListStreamsOptions>): Promise<StreamInfo[]> {
  const { after, contains, limit } = options
  const found: StreamInfo[] = []
  let from = after
  while (found.length < limit) {
    const wanted = limit - found.length
    const rows = await db.read<Array<StreamInfo | Walk>>(walk(t, from, contains, contains === '' ? wanted : Math.max(wanted, FILTERED_STEPS)), 'list streams')
    const end = rows.pop() as Walk
    found.push(...(rows as StreamInfo[]))
    if (end.done) break
    from = end.after
  }
  return found.slice(0, limit)
}

/** Leases by name, through the primary index; reads every lease (one document each). */
export function rethinkListLeases(db: RethinkConnection, t: Tables): Promise<LeaseState[]> {
  return db.read<LeaseState[]>(
    t.leases
      .orderBy({ index: 'id' })
      .filter((l: RDatum) => l('term').gt(0))
      .map((l: RDatum) => ({ name: l('id'), holder: l('holder'), term: l('term'), expiresAt: l('expiresAt') }))
      .coerceTo('array'),
    'list leases',
  )
}

/** Checkpoints by name, through the primary index; reads every checkpoint. */
export function rethinkListCheckpoints(db: RethinkConnection, t: Tables): Promise<CheckpointState[]> {
  return db.read<CheckpointState[]>(
    t.checkpoints
      .orderBy({ index: 'id' })
      .map((c: RDatum) => ({ name: c('id'), position: c('position') }))
      .coerceTo('array'),
    'list checkpoints',
  )
}
