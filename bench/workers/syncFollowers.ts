// 1,000 (argv) live followers of distinct streams through one RemoteStore; prints `ready` once
// every feed is open, then the delivery lag of each event (now minus the `sentAt` in its data).
import { RemoteStore } from 'omniscient-actors/sync'

const [url, countText, expectText] = process.argv.slice(2) as [string, string, string]
const count = Number(countText)
const expected = Number(expectText)
const store = new RemoteStore({ url, token: 'bench-token-0123456789', offline: false })
const from = (await store.headPosition()) + 1
const lags: number[] = []
const subs = Array.from({ length: count }, (_, i) =>
  store.subscribe({ streamId: `follower-${i}`, fromPosition: from }, (e) => {
    lags.push(performance.timeOrigin + performance.now() - (e.data as { sentAt: number }).sentAt)
  }),
)
// A feed is open once the server answered; the status says connected after the first.
while (store.status.connected === false) await new Promise((r) => setTimeout(r, 10))
console.log(`ready ${count}`)
while (lags.length < expected) await new Promise((r) => setTimeout(r, 10))
console.log(JSON.stringify(lags))
await Promise.all(subs.map((s) => s.close()))
await store.close()
