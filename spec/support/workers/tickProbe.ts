// A TickActor instance for the partition specs (spec/support/Metronome.ts, id `metronome`):
// prints every change of its believed leadership, every tick its handler applies and every
// tick it fires (its append), each with this process's clock, one line each:
//   lead <term> <ms> | follow <ms>
//   apply <tick> <firedAt> <ms> <leading: 1|0>
//   fire <eventId> <startMs> <endMs> <leading at start: 1|0> ok <version> <term> <firedAt> | ... err <code> <firedAt>
//   call <method> <startMs> <endMs> ok|<code>      (every store call that returns a promise)
//   report <ms> <code> <where>                     (what the container reports)
import { createContainer, isOmniscientError, type StorageAdapter, type TickData } from 'omniscient-actors'
import { leadershipPrinter } from '../faults/leadershipPrinter.js'
import { recordedStore } from '../faults/recordedStore.js'
import { Metronome } from '../Metronome.js'

const [url, namespace] = process.argv.slice(2) as [string, string]

const leading = () => (metronome.IsLeader ? 1 : 0)

class ProbedMetronome extends Metronome {
  protected override onLeading(): void {
    watch()
    super.onLeading()
  }
  protected override onFollowing(): void {
    watch()
    super.onFollowing()
  }
  override tick(data: TickData) {
    super.tick(data)
    watch()
    console.log(`apply ${data.tick} ${data.firedAt} ${Date.now()} ${leading()}`)
  }
}

// A tick leaves the process in an append: one `fire` line per tick appended, with its outcome.
const recorded = recordedStore(url, namespace)
const store = new Proxy(recorded, {
  get(target, key) {
    if (key !== 'append') return Reflect.get(target, key) as unknown
    const append: StorageAdapter['append'] = (streamId, events, options) => {
      watch()
      const asLeader = leading()
      const start = Date.now()
      const result = target.append(streamId, events, options)
      const ticks = events.filter((e) => e.name === 'tick')
      result.then(
        (r) => {
          for (const e of r.events) if (e.name === 'tick') console.log(`fire ${e.id} ${start} ${Date.now()} ${asLeader} ok ${e.version} ${String(e.meta.term)} ${(e.data as TickData).firedAt}`)
        },
        (err: unknown) => {
          for (const e of ticks) console.log(`fire ${e.id} ${start} ${Date.now()} ${asLeader} err ${isOmniscientError(err) ? err.code : (err as Error).name} ${(e.data as TickData).firedAt}`)
        },
      )
      return result
    }
    return append
  },
})

const metronome = new ProbedMetronome('metronome', createContainer({ store, report: (err, context) => console.log(`report ${Date.now()} ${isOmniscientError(err) ? err.code : (err as Error).name} ${context.where}`) }))
// Called on a timer and before every line, so that no line is printed under a stale belief.
const watch = leadershipPrinter(metronome)
setInterval(watch, 2)
await metronome.Load()
watch()
console.log('ready')
