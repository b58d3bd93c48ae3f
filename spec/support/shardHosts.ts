import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { openStore } from './openStore.js'
import { startWorker } from './processes.js'

export type Host = ReturnType<typeof startWorker>

/** Starts a process hosting ShardedJournal (spec/support/workers/shardHost.ts). */
export function startHost(target: string, label: string, actors: number, mode: 'fire' | 'idle' = 'fire'): Host {
  return startWorker('shardHost', [target, label, String(actors), mode])
}

/** The shards a host leads, from its `lead`/`follow` lines (up to `until`, ms since the epoch). */
export function ledBy(host: Host, until = Infinity): Set<number> {
  const led = new Set<number>()
  for (const line of host.lines) {
    const [kind, shard, a, b] = line.split(' ')
    if (kind === 'lead' && Number(b) <= until) led.add(Number(shard))
    if (kind === 'follow' && Number(a) <= until) led.delete(Number(shard))
  }
  return led
}

/** When each shard was first led by one of `hosts` at or after `since`. */
export function firstLedAfter(hosts: readonly Host[], since: number): Map<number, number> {
  const at = new Map<number, number>()
  for (const host of hosts) {
    for (const line of host.lines) {
      const [kind, shard, , time] = line.split(' ')
      if (kind !== 'lead' || Number(time) < since) continue
      const s = Number(shard)
      at.set(s, Math.min(at.get(s) ?? Infinity, Number(time)))
    }
  }
  return at
}

/** Whether the hosts lead every one of `shards` shards between them, each once, balanced within one. */
export function balanced(hosts: readonly Host[], shards: number): boolean {
  const counts = hosts.map((h) => ledBy(h).size)
  const all = hosts.flatMap((h) => [...ledBy(h)])
  return new Set(all).size === shards && all.length === shards && Math.max(...counts) - Math.min(...counts) <= 1
}

export const resolved = (hosts: readonly Host[]): string[] => hosts.flatMap((h) => h.lines.filter((l) => l.startsWith('resolved ')).map((l) => l.split(' ')[1]!))
export const failed = (hosts: readonly Host[]): string[] => hosts.flatMap((h) => h.lines.filter((l) => l.startsWith('failed ')))

/**
 * The history check of the shard specs: every acknowledged Fire stored once, nothing stored
 * twice, versions without gaps and terms that never go back, in each journal.
 */
export async function checkJournals(target: string, actors: number, hosts: readonly Host[]): Promise<{ events: number }> {
  // Taken first: the hosts may still be firing, and a Fire acknowledged after its journal was
  // read is not missing.
  const acknowledged = resolved(hosts)
  const failures = failed(hosts)
  const store = openStore(target)
  const ids: string[] = []
  try {
    for (let i = 0; i < actors; i++) {
      const events: EventEnvelope[] = await collect(store.readStream(`journal-${i}`))
      expect(events.map((e) => e.version), `journal-${i} versions`).to.deep.equal(events.map((_, n) => n + 1))
      let highest = 0
      for (const e of events) {
        const term = e.meta.term ?? 0
        expect(term, `journal-${i} v${e.version} under term ${term} after term ${highest}`).to.be.at.least(highest)
        highest = term
      }
      ids.push(...events.map((e) => e.id))
    }
  } finally {
    await store.close()
  }
  expect(new Set(ids).size, 'no event stored twice').to.equal(ids.length)
  const stored = new Set(ids)
  const lost = acknowledged.filter((id) => !stored.has(id))
  const lines = hosts.flatMap((h) => h.lines.filter((l) => lost.some((id) => l.startsWith(`resolved ${id} `))))
  expect(lost, `acknowledged Fires that are not stored: ${lines.join('; ')}`).to.deep.equal([])
  expect(failures).to.deep.equal([])
  return { events: ids.length }
}
