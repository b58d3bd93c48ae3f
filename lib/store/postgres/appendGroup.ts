import type { NewEvent } from '../../envelope.js'
import { StorageError } from '../../errors.js'
import type { EncodedEvent } from '../kit/eventJson.js'
import type { AppendOptions } from '../StorageAdapter.js'

// Versions and terms are `integer` columns. A larger expected version or term (valid for the
// contract: any non-negative safe integer) can match no row, so it is sent as -1, which matches
// none either, instead of failing the cast and with it the whole group.
const INT4_MAX = 2_147_483_647
const int4 = (n: number): number => (n > INT4_MAX ? -1 : n)

// How a group of appends travels to the server's append functions (schema.ts) and how their
// answers come back, one GroupResult per append.

export interface AppendWork {
  readonly streamId: string
  readonly events: readonly NewEvent[]
  readonly encoded: readonly EncodedEvent[]
  readonly options: AppendOptions
}

export type GroupResult =
  | { positions: number[]; firstVersion: number }
  | { error: 'version'; actual: number }
  | { error: 'lease'; currentTerm: number }
  | { error: 'duplicate' }

/** True when no two appends of the group are on one stream: the fast path can take it. */
export function onDistinctStreams(works: readonly AppendWork[]): boolean {
  if (works.length === 1) return true
  const streams = new Set<string>()
  for (const work of works) streams.add(work.streamId)
  return streams.size === works.length
}

/** A query as pg takes it; a named one is parsed and planned once per connection. */
export interface Call {
  readonly name?: string
  readonly text: string
  readonly values: unknown[]
}

/**
 * The call of append_distinct_streams for a group on distinct streams; `statementName` makes
 * it a prepared statement (parsing and planning the call cost a group of one a fifth of its
 * server time).
 */
export function distinctStreamsCall(schema: string, works: readonly AppendWork[], channel: string, statementName: string | undefined): Call {
  const streamIds: string[] = []
  const expected: Array<number | null> = []
  const leaseNames: Array<string | null> = []
  const leaseTerms: Array<number | null> = []
  let leases = false
  const owners: number[] = []
  const ordinals: number[] = []
  const ids: string[] = []
  const names: string[] = []
  const datas: string[] = []
  const schemaVersions: number[] = []
  const ats: number[] = []
  const metas: string[] = []
  works.forEach((work, i) => {
    streamIds.push(work.streamId)
    expected.push(work.options.expectedVersion === 'any' ? null : int4(work.options.expectedVersion))
    const lease = work.options.lease
    leases ||= lease !== undefined
    leaseNames.push(lease ? lease.name : null)
    leaseTerms.push(lease ? int4(lease.term) : null)
    work.encoded.forEach((e, k) => {
      owners.push(i + 1)
      ordinals.push(k + 1)
      ids.push(e.id)
      names.push(e.name)
      datas.push(e.data)
      schemaVersions.push(e.schemaVersion)
      ats.push(e.at)
      metas.push(e.meta)
    })
  })
  return {
    ...(statementName === undefined ? {} : { name: statementName }),
    text: `SELECT errors, versions, positions FROM ${schema}.append_distinct_streams($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    values: [streamIds, expected, leases ? leaseNames : null, leases ? leaseTerms : null, owners, ordinals, ids, names, datas, schemaVersions, ats, metas, channel],
  }
}

/** The row append_distinct_streams answers: per append its refusal and version, then the stored events' positions. */
export interface DistinctStreamsRow {
  errors: Array<string | null>
  versions: number[]
  positions: string[] | null
}

/** What append_distinct_streams answered, as one GroupResult per append. */
export function distinctStreamsResults(works: readonly AppendWork[], row: DistinctStreamsRow): GroupResult[] {
  const stored = row.positions ?? []
  let next = 0
  const results = works.map((work, i): GroupResult => {
    const error = row.errors[i]
    const version = row.versions[i]!
    if (error === 'lease') return { error: 'lease', currentTerm: version }
    if (error === 'version') return { error: 'version', actual: version }
    const positions = stored.slice(next, next + work.events.length).map(Number)
    next += work.events.length
    return { positions, firstVersion: version + 1 }
  })
  // Committed, but answered in a shape this code does not know: say so rather than guess.
  if (next !== stored.length || row.errors.length !== works.length) {
    throw new StorageError(`append_distinct_streams answered ${stored.length} positions and ${row.errors.length} outcomes for ${next} stored events of ${works.length} appends`, { code: 'STORAGE_INDETERMINATE' })
  }
  return results
}

/** The call of append_group, which takes any group and checks each append's ids before it inserts. */
export function checkedGroupCall(schema: string, works: readonly AppendWork[], channel: string): Call {
  const payload = works.map((w) => ({
    streamId: w.streamId,
    expected: w.options.expectedVersion === 'any' ? 'any' : String(int4(w.options.expectedVersion)),
    events: w.encoded,
    ...(w.options.lease ? { leaseName: w.options.lease.name, leaseTerm: int4(w.options.lease.term) } : {}),
  }))
  return { text: `SELECT ${schema}.append_group($1::jsonb, $2) AS r`, values: [JSON.stringify(payload), channel] }
}
