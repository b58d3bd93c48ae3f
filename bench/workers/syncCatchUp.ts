// Reads the whole log over HTTP through a RemoteStore `runs` times, printing events/s each time:
// the client in its own process, as a device would be.
import { RemoteStore } from 'omniscient-actors/sync'

const [url, expectText, runsText] = process.argv.slice(2) as [string, string, string]
const store = new RemoteStore({ url, token: 'bench-token-0123456789', offline: false })
for (let run = 0; run < Number(runsText); run++) {
  const start = performance.now()
  let n = 0
  for await (const _ of store.readAll()) n++
  if (n !== Number(expectText)) throw new Error(`read ${n} events, expected ${expectText}`)
  console.log(`rate ${(n / ((performance.now() - start) / 1000)).toFixed(0)}`)
}
await store.close()
