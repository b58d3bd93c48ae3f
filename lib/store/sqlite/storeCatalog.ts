import type { Database } from 'better-sqlite3'
import { checkListStreams, type CheckpointState, type ListStreamsOptions, type StreamInfo } from '../StoreCatalog.js'
import type { LeaseState } from '../StorageAdapter.js'

// SqliteStore's store-wide reads for tools (see ../StoreCatalog.ts). Read-only queries.

/** Streams in id order: the (stream_id, version) index gives each stream's last version. */
export function sqliteListStreams(db: Database, options: ListStreamsOptions = {}): StreamInfo[] {
  const { after, contains, limit } = checkListStreams(options)
  const rows = db
    .prepare(
      `SELECT e.stream_id, e.version, e.position, e.at
         FROM (SELECT stream_id, max(version) AS v FROM events
                WHERE stream_id > ? AND instr(stream_id, ?) > 0
                GROUP BY stream_id ORDER BY stream_id LIMIT ?) AS m
         JOIN events AS e ON e.stream_id = m.stream_id AND e.version = m.v
        ORDER BY e.stream_id`,
    )
    .raw()
    .all(after, contains, limit) as Array<[string, number, number, number]>
  return rows.map(([streamId, version, lastPosition, lastAt]) => ({ streamId, version, lastPosition, lastAt }))
}

export function sqliteListLeases(db: Database): LeaseState[] {
  const rows = db.prepare('SELECT name, holder, term, expires_at FROM leases ORDER BY name').all() as Array<{ name: string; holder: string; term: number; expires_at: number }>
  return rows.map((r) => ({ name: r.name, holder: r.holder, term: r.term, expiresAt: r.expires_at }))
}

export function sqliteListCheckpoints(db: Database): CheckpointState[] {
  return db.prepare('SELECT name, position FROM checkpoints ORDER BY name').all() as CheckpointState[]
}
