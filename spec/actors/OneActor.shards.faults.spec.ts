import { expect } from 'chai'
import { freshTarget, storeKinds } from '../support/openStore.js'
import { waitUntil } from '../support/processes.js'
import { balanced, checkJournals, firstLedAfter, ledBy, resolved, startHost, type Host } from '../support/shardHosts.js'
import { ShardedJournal } from '../support/ShardedJournal.js'

const ACTORS = 24
const ROUNDS = Number(process.env['FAULT_ROUNDS'] ?? 3)
const BOUND = ShardedJournal.leaseMs + ShardedJournal.renewEveryMs + 500

for (const kind of storeKinds) describe(`OneActor sharded, faults across processes on ${kind.name}`, function () {
  this.timeout(60_000 + ROUNDS * 40_000)
  let hosts: Host[] = []
  afterEach(async () => {
    for (const h of hosts) h.kill('SIGKILL')
    await Promise.all(hosts.map((h) => h.exited))
    hosts = []
  })
  const fresh = freshTarget(kind)

  it(`should move a paused owner's shards (SIGSTOP past its lease) and take it back as a member on SIGCONT, ${ROUNDS} times, losing and doubling no Fire`, async () => {
    hosts = ['a', 'b', 'c'].map((label) => startHost(fresh.target, label, ACTORS))
    await waitUntil(() => balanced(hosts, ShardedJournal.shards), 30_000, 'three balanced hosts')
    for (let round = 0; round < ROUNDS; round++) {
      const paused = hosts[round % hosts.length]!
      const others = hosts.filter((h) => h !== paused)
      const orphans = [...ledBy(paused)]
      let pausedAt = 0
      // SQLite's write lock is a file lock: a process paused inside a commit keeps it and nobody
      // else can write or take a lease. If the pause lands there, let it run a moment and pause again.
      for (let attempt = 0; ; attempt++) {
        pausedAt = Date.now()
        paused.kill('SIGSTOP')
        const moved = await waitUntil(() => orphans.every((s) => firstLedAfter(others, pausedAt).has(s)), 3 * BOUND, 'the paused owner’s shards to move').then(() => true, () => false)
        if (moved) break
        if (attempt === 7) throw new Error(`round ${round}: no takeover after 8 pauses; orphans ${orphans.join(',')}; led ${hosts.map((h) => [...ledBy(h)].join(',')).join(' | ')}; tails ${hosts.map((h) => h.lines.slice(-4).join(' / ')).join(' | ')}`)
        // Long enough for the others, whose event loops waited on the lock, to find their feet.
        paused.kill('SIGCONT')
        await new Promise((r) => setTimeout(r, 300))
      }
      const took = Math.max(...orphans.map((s) => firstLedAfter(others, pausedAt).get(s)!)) - pausedAt
      expect(took, `round ${round}: the last shard moved after ${took} ms`).to.be.at.most(3 * BOUND)
      await new Promise((r) => setTimeout(r, ShardedJournal.leaseMs))
      paused.kill('SIGCONT')
      await waitUntil(() => balanced(hosts, ShardedJournal.shards), 30_000, `round ${round}: three balanced hosts again`)
      const before = resolved(hosts).length
      await waitUntil(() => resolved(hosts).length >= before + 20, 30_000, 'more Fires')
    }
    await checkJournals(fresh.target, ACTORS, hosts)
  })

  it(`should survive ${ROUNDS} kills (kill -9) and joins under load, every shard moving within lease + one renewal, losing and doubling no Fire`, async () => {
    hosts = ['a', 'b', 'c'].map((label) => startHost(fresh.target, label, ACTORS))
    const all = [...hosts]
    await waitUntil(() => balanced(hosts, ShardedJournal.shards), 30_000, 'three balanced hosts')
    for (let round = 0; round < ROUNDS; round++) {
      const victim = hosts[0]!
      const orphans = [...ledBy(victim)]
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      await victim.exited
      hosts = hosts.slice(1)
      await waitUntil(() => orphans.every((s) => firstLedAfter(hosts, killedAt).has(s)), 10_000, "the killed process's shards to move")
      const took = Math.max(...orphans.map((s) => firstLedAfter(hosts, killedAt).get(s)!)) - killedAt
      expect(took, `round ${round}: the last shard moved after ${took} ms`).to.be.at.most(BOUND)
      const joiner = startHost(fresh.target, `j${round}`, ACTORS)
      hosts.push(joiner)
      all.push(joiner)
      await waitUntil(() => balanced(hosts, ShardedJournal.shards), 30_000, `round ${round}: three balanced hosts again`)
    }
    await checkJournals(fresh.target, ACTORS, all)
  })
})
