// The holding process of the followers bench: loads `count` Beacon LiveActors on distinct
// streams (b0, b1, ...), then idles while another process fires at them. Prints its heap per
// loaded actor, then `ready`; on the go file it starts measuring its CPU, on the stop file it
// stops, waits for the last deliveries, and prints one JSON line: CPU ms, window ms, and for
// each event index the wall-clock time its handler ran.
import { existsSync } from 'node:fs'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { z } from 'zod'
import { createContainer, defineEvents, LiveActor, type Container, type EventData } from 'omniscient-actors'
import { openBenchStore } from './openBenchStore.js'

const [target, countText, goFile, stopFile, expectedText] = process.argv.slice(2) as [string, string, string, string, string]
const count = Number(countText)
const expected = Number(expectedText)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const received: number[] = []
let delivered = 0

const BeaconEvents = defineEvents({ pinged: z.object({ i: z.number().int() }) })
class Beacon extends LiveActor<typeof BeaconEvents, { pings: number }> {
  static events = BeaconEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.pings = 0
  }
  pinged(data: EventData<typeof BeaconEvents, 'pinged'>) {
    this._state.pings++
    if (received[data.i] === undefined) delivered++
    received[data.i] = performance.timeOrigin + performance.now()
  }
}

const store = openBenchStore(target)
const container = createContainer({ store, actors: { maxActive: count, idleMs: 3_600_000 } })
await store.headPosition() // the schema is ready before anything is measured
gc()
const heapBefore = process.memoryUsage().heapUsed
for (let from = 0; from < count; from += 250) {
  await Promise.all(Array.from({ length: Math.min(250, count - from) }, (_, k) => container.actors.get(Beacon, `b${from + k}`)))
}
gc()
const heapAfter = process.memoryUsage().heapUsed
console.log(`heap ${(heapAfter - heapBefore) / count}`)
console.log('ready')
while (!existsSync(goFile)) await new Promise((r) => setTimeout(r, 1))
const cpu = process.cpuUsage()
const start = performance.now()
while (!existsSync(stopFile)) await new Promise((r) => setTimeout(r, 1))
const used = process.cpuUsage(cpu)
const windowMs = performance.now() - start
const deadline = Date.now() + 5_000
while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000, windowMs, received }))
await container.close()
