import type { EventEnvelope, LeaseState } from '../node.js'

/** `2026-11-28 08:32:05.123` in UTC: sortable, and the same on every machine. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** One event as a line a person reads: position, stream, version, name, time, data. */
export function eventLine(e: EventEnvelope): string {
  const data = e.data === undefined ? '' : ` ${JSON.stringify(e.data)}`
  return `#${e.position} ${e.streamId} v${e.version} ${e.name} ${formatTime(e.at)}${data}`
}

/** A lease's standing at `now`: held for how long still, or free since when. */
export function leaseStanding(lease: LeaseState, now: number): string {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`
  return lease.expiresAt > now ? `held, expires in ${seconds(lease.expiresAt - now)}` : `free (expired ${seconds(now - lease.expiresAt)} ago)`
}

/** Left-aligned columns under a header row. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}
