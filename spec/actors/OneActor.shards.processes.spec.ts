import { expect } from 'chai'
import { freshTarget, processStoreKinds } from '../support/openStore.js'
import { waitUntil } from '../support/processes.js'
import { balanced, checkJournals, firstLedAfter, ledBy, resolved, startHost, type Host } from '../support/shardHosts.js'
import { ShardedJournal } from '../support/ShardedJournal.js'

const ACTORS = 12
const fired = (hosts: readonly Host[], atLeast: number) => hosts.every((h) => h.lines.filter((l) => l.startsWith('resolved ')).length >= atLeast)

for (const kind of processStoreKinds) describe(`OneActor sharded across processes on ${kind.name}`, function () {
  this.timeout(90_000)
  let hosts: Host[] = []
  afterEach(async () => {
    for (const h of hosts) h.kill('SIGKILL')
    await Promise.all(hosts.map((h) => h.exited))
    hosts = []
  })
  const fresh = freshTarget(kind)

  it('should give every shard of a killed process (kill -9) a new owner within lease + one renewal, under load, losing and doubling no Fire', async () => {
    hosts = ['a', 'b', 'c'].map((label) => startHost(fresh.target, label, ACTORS))
    await waitUntil(() => balanced(hosts, ShardedJournal.shards) && fired(hosts, 5), 30_000, 'three balanced hosts, firing')
    const victim = hosts[0]!
    const orphans = [...ledBy(victim)]
    const killedAt = Date.now()
    victim.kill('SIGKILL')
    await victim.exited
    const survivors = hosts.slice(1)
    await waitUntil(() => orphans.every((s) => firstLedAfter(survivors, killedAt).has(s)), 10_000, "the killed process's shards to move")
    const took = Math.max(...orphans.map((s) => firstLedAfter(survivors, killedAt).get(s)!)) - killedAt
    if (process.env['SHOW_FAILOVER']) console.log(`      ${orphans.length} shards moved in ${took} ms`)
    expect(took, `the last shard moved after ${took} ms`).to.be.at.most(ShardedJournal.leaseMs + ShardedJournal.renewEveryMs + 500)
    await waitUntil(() => balanced(survivors, ShardedJournal.shards), 10_000, 'two balanced hosts')
    const before = resolved(survivors).length
    await waitUntil(() => resolved(survivors).length >= before + 20, 30_000, 'more Fires after the takeover')
    await checkJournals(fresh.target, ACTORS, hosts)
  })

  it('should hand shards over to a process that joins under load and take them back when it leaves, losing and doubling no Fire', async () => {
    hosts = ['a', 'b'].map((label) => startHost(fresh.target, label, ACTORS))
    await waitUntil(() => balanced(hosts, ShardedJournal.shards) && fired(hosts, 5), 30_000, 'two balanced hosts, firing')
    const joiner = startHost(fresh.target, 'joiner', ACTORS)
    hosts.push(joiner)
    await waitUntil(() => balanced(hosts, ShardedJournal.shards) && fired([joiner], 5), 30_000, 'three balanced hosts')
    joiner.kill('SIGTERM')
    expect(await joiner.exited).to.equal(0)
    expect(ledBy(joiner), 'the leaver led nothing when it exited').to.have.property('size', 0)
    const stayers = hosts.slice(0, 2)
    await waitUntil(() => balanced(stayers, ShardedJournal.shards), 10_000, 'two balanced hosts again')
    const before = resolved(stayers).length
    await waitUntil(() => resolved(stayers).length >= before + 20, 30_000, 'more Fires after the leave')
    await checkJournals(fresh.target, ACTORS, hosts)
  })
})
