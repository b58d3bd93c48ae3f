// A TickActor across processes: a reminder clock that ticks once a second, whichever of the
// running processes leads. Start it in two terminals; stop the one that prints the ticks and
// the other carries on with the next number.
//   npm run reminder            (terminal 1 and terminal 2)
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { createContainer, defineEvents, SqliteStore, TickActor, tickEvents, type Container, type TickData } from 'omniscient-actors'

const ReminderEvents = defineEvents({ ...tickEvents, snoozed: z.object({ minutes: z.number() }) })

class Reminder extends TickActor<typeof ReminderEvents, { every: number; ticks: number }> {
  static events = ReminderEvents
  static resolution = 1_000

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.every = 5
    this._state.ticks = 0
  }

  tick(data: TickData): void {
    this._state.ticks = data.tick
    if (this.IsLeader) {
      const late = data.firedAt - data.scheduledAt
      const remind = data.tick % this._state.every === 0 ? '  <- time to stretch' : ''
      console.log(`tick ${data.tick} (pid ${process.pid}, ${late} ms late)${remind}`)
    }
  }

  snoozed(): void {}
}

const { values } = parseArgs({ options: { db: { type: 'string', default: './.data/reminder.db' } } })
const container = createContainer({ store: new SqliteStore({ file: values.db }) })
const reminder = await container.actors.get(Reminder, 'stretch')
console.log(`pid ${process.pid}: ${reminder.IsLeader ? 'leading' : 'following'}; last tick so far ${reminder.LastTick} (Ctrl-C to stop)`)
await new Promise<void>((resolve) => process.once('SIGINT', resolve))
await container.close()
