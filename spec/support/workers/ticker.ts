// Runs the GameClock TickActor for `ms` milliseconds from the go signal, then stops.
import { z } from 'zod'
import { createContainer, defineEvents, TickActor, tickEvents, type Container, type TickData } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { awaitGo } from '../processes.js'

const ClockEvents = defineEvents({ ...tickEvents, reset: z.undefined() })
class GameClock extends TickActor<typeof ClockEvents, { ticks: number }> {
  static events = ClockEvents
  static resolution = 100
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.ticks = 0
  }
  tick(_data: TickData) {
    this._state.ticks++
  }
}

const [file, msText, goFile] = process.argv.slice(2) as [string, string, string]
const store = openStore(file)
await awaitGo(goFile)
const clock = await new GameClock('clock', createContainer({ store })).Load()
await new Promise((r) => setTimeout(r, Number(msText)))
console.log(`stopping leader=${String(clock.IsLeader)} last=${clock.LastTick} term=${clock.Term}`)
await clock.Stop()
await store.close()
