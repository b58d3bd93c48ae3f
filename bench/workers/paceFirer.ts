// The firing process of the followers bench: appends `total` events at `perSecond` to streams
// b0..b(count-1) in turn, starting on the go file, then writes the stop file and prints the
// wall-clock time each append resolved at, as one JSON line.
import { writeFileSync } from 'node:fs'
import { awaitGo } from '../../spec/support/processes.js'
import { openBenchStore } from './openBenchStore.js'

const [target, countText, totalText, perSecondText, goFile, stopFile] = process.argv.slice(2) as [string, string, string, string, string, string]
const count = Number(countText)
const total = Number(totalText)
const everyMs = 1_000 / Number(perSecondText)

const store = openBenchStore(target)
await store.headPosition()
await awaitGo(goFile)
const committed: number[] = []
const start = performance.now()
for (let i = 0; i < total; i++) {
  // An absolute schedule: a slow append does not push the later ones back.
  const wait = start + i * everyMs - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  await store.append(`b${i % count}`, [{ id: `ping-${i}`, name: 'pinged', data: { i }, schemaVersion: 1, at: Date.now(), meta: { actorType: 'Beacon' } }], { expectedVersion: 'any' })
  committed[i] = performance.timeOrigin + performance.now()
}
writeFileSync(stopFile, 'stop')
console.log(JSON.stringify(committed))
await store.close()
