// Hosts ShardedJournal and fires entries on `actors` journals one after the other (each to a
// journal picked in turn, so most are proposals to other processes), printing each change of
// shard leadership and each resolved Fire with the wall-clock time. SIGTERM: leaves gracefully
// (hands its shards over) and exits.
import { createContainer, hostShards, isOmniscientError, LeaseLostError, ProposalTimeoutError } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { ShardedJournal } from '../ShardedJournal.js'

const [target, label, actorsArg, fireArg] = process.argv.slice(2) as [string, string, string, string | undefined]
const actors = Number(actorsArg)
const firing = fireArg !== 'idle'
const container = createContainer({ store: openStore(target), report: () => {} })
const region = hostShards(container, ShardedJournal)
region.onChange(({ shard, term, reason }) => console.log(term > 0 ? `lead ${shard} ${term} ${Date.now()}` : `follow ${shard} ${Date.now()} ${reason ?? ''}`))
let leaving = false
process.on('SIGTERM', () => {
  leaving = true
  void container.close().then(() => {
    console.log(`left ${Date.now()}`)
    process.exit(0)
  })
})
console.log('ready')
for (let n = 0; firing && !leaving; n++) {
  const id = `${label}-${n}`
  const journal = await container.actors.get(ShardedJournal, `journal-${(n * 7 + label.length) % actors}`)
  for (let attempt = 0; !leaving; attempt++) {
    try {
      const stored = await journal.Fire('entry', { by: label, n }, { id })
      console.log(`resolved ${id} ${stored.streamId} ${Date.now()} ${String(stored.meta.term)}`)
      break
    } catch (err) {
      // Fenced, timed out or a store that failed (SQLite busy while a paused process holds its
      // lock): nothing acknowledged, and the same id may be sent again (stored at most once).
      if (err instanceof LeaseLostError || err instanceof ProposalTimeoutError || (isOmniscientError(err) && err.code.startsWith('STORAGE'))) continue
      console.log(`failed ${id} ${(err as Error).name} ${(err as Error).message}`)
      break
    }
  }
  await new Promise((r) => setTimeout(r, 5))
}
