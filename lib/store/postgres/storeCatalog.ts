import { checkListStreams, type CheckpointState, type ListStreamsOptions, type StreamInfo } from '../StoreCatalog.js'
import type { LeaseState } from '../StorageAdapter.js'

// PgStore's store-wide reads for tools (see ../StoreCatalog.ts). `s` is the quoted schema.

type Query = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<R[]>

/** Streams in id order: the (stream_id, version) index gives each stream's last version. */
export async function pgListStreams(query: Query, s: string, options: ListStreamsOptions = {}): Promise<StreamInfo[]> {
  const { after, contains, limit } = checkListStreams(options)
  const rows = await query<{ stream_id: string; version: number; position: string; at: string }>(
    `SELECT e.stream_id, e.version, e.position, e.at
       FROM (SELECT stream_id, max(version) AS v FROM ${s}.events
              WHERE stream_id > $1 AND strpos(stream_id, $2) > 0
              GROUP BY stream_id ORDER BY stream_id LIMIT $3) AS m
       JOIN ${s}.events AS e ON e.stream_id = m.stream_id AND e.version = m.v
      ORDER BY e.stream_id`,
    [after, contains, limit],
  )
  return rows.map((r) => ({ streamId: r.stream_id, version: r.version, lastPosition: Number(r.position), lastAt: Number(r.at) }))
}

/** Leases by name; a row of term 0 is the placeholder a first acquire inserts, not a lease. */
export async function pgListLeases(query: Query, s: string): Promise<LeaseState[]> {
  const rows = await query<{ name: string; holder: string; term: number; expires_at: string }>(`SELECT name, holder, term, expires_at FROM ${s}.leases WHERE term > 0 ORDER BY name`)
  return rows.map((r) => ({ name: r.name, holder: r.holder, term: r.term, expiresAt: Number(r.expires_at) }))
}

export async function pgListCheckpoints(query: Query, s: string): Promise<CheckpointState[]> {
  const rows = await query<{ name: string; position: string }>(`SELECT name, position FROM ${s}.checkpoints ORDER BY name`)
  return rows.map((r) => ({ name: r.name, position: Number(r.position) }))
}
