// Process B of the latency bench: follows stream `ping` and prints, for each event, its index
// and the wall-clock time (ms, sub-ms precision) at which the handler received it.
import { SqliteStore } from 'omniscient-actors'

const [file, countText] = process.argv.slice(2) as [string, string]
const store = new SqliteStore({ file })
const count = Number(countText)
const received: number[] = []
const sub = store.subscribe({ streamId: 'ping' }, (e) => {
  received[(e.data as { i: number }).i] = performance.timeOrigin + performance.now()
  if (received.length === count && !received.includes(undefined as unknown as number)) void finish()
})
console.log('ready')
async function finish() {
  console.log(JSON.stringify(received))
  await sub.close()
  await store.close()
}
