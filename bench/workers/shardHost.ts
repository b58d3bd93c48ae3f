// A process of the shards bench: hosts ShardedJournal, activates its share of `actors`
// journals (every third id, through the registry: at most 10,000 stay resident), prints each
// change of shard leadership, then follows the bench's files in `dir`:
//   measure, stop-idle: an idle window; prints {"idle": {ops, cpuMs, windowMs, changes, shards}}
//   fire (process 0 only): Fires, one at a time, on 100 resident journals whose shard another
//   process leads: one each first (it activates the journal on the owner), printed as
//   {"cold": [ms, ...]}, then `fires` more among them, printed as {"fires": [ms, ...]}
// Store calls are counted at the StorageAdapter (every method call).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createContainer, hostShards } from 'omniscient-actors'
import { ShardedJournal } from '../../spec/support/ShardedJournal.js'
import { openBenchStore } from './openBenchStore.js'

const [target, indexText, actorsText, dir, firesText] = process.argv.slice(2) as [string, string, string, string, string]
const index = Number(indexText)
const actors = Number(actorsText)
const fires = Number(firesText)

let ops = 0
const raw = openBenchStore(target)
const store = new Proxy(raw, {
  get(t, key, receiver) {
    const value = Reflect.get(t, key, receiver) as unknown
    if (typeof value !== 'function') return value
    return (...args: unknown[]) => {
      ops++
      return (value as (...a: unknown[]) => unknown).apply(t, args)
    }
  },
})
const container = createContainer({ store, report: (err, { where }) => console.error(`${where}: ${String(err)}`) })
const region = hostShards(container, ShardedJournal)
let changes = 0
region.onChange(({ shard, term, reason }) => {
  changes++
  console.log(term > 0 ? `lead ${shard} ${term} ${Date.now()}` : `follow ${shard} ${Date.now()} ${reason ?? ''}`)
})
const waitFor = async (name: string) => {
  while (!existsSync(join(dir, name))) await new Promise((r) => setTimeout(r, 5))
}

const mine: string[] = []
for (let i = index; i < actors; i += 3) mine.push(`journal-${i}`)
for (let from = 0; from < mine.length; from += 200) await Promise.all(mine.slice(from, from + 200).map((id) => container.actors.get(ShardedJournal, id)))
console.log(`loaded ${mine.length} ${container.actors.size}`)

await waitFor('measure')
const opsBefore = ops
const changesBefore = changes
const cpu = process.cpuUsage()
const start = performance.now()
await waitFor('stop-idle')
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({ idle: { ops: ops - opsBefore, cpuMs: (used.user + used.system) / 1000, windowMs: performance.now() - start, changes: changes - changesBefore, shards: region.Shards.length, resident: container.actors.size } }))

if (index === 0 && fires > 0) {
  await waitFor('fire')
  // Resident here, led elsewhere: every Fire is a proposal. The first Fire on each target also
  // activates it on its shard's owner (cold); the timed ones find it resident there (warm).
  const targets = mine.slice(-Math.min(mine.length, 10_000)).filter((id) => !region.Shards.includes(region.shardOf(id))).slice(0, 100)
  const time = async (id: string, n: number) => {
    const journal = await container.actors.get(ShardedJournal, id)
    const t = performance.now()
    await journal.Fire('entry', { by: 'bench', n })
    return performance.now() - t
  }
  const cold: number[] = []
  for (const [n, id] of targets.entries()) cold.push(await time(id, n))
  const times: number[] = []
  for (let n = 0; n < fires; n++) times.push(await time(targets[n % targets.length]!, n))
  console.log(JSON.stringify({ cold }))
  console.log(JSON.stringify({ fires: times }))
}
await new Promise(() => {})
