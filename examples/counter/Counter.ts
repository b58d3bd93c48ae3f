import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData, type Handlers } from 'omniscient-actors'

export const CounterEvents = defineEvents({
  added: z.object({ by: z.number().int(), who: z.string() }),
})

/** A counter shared by every process that opens the same store: each sees every addition live. */
export class Counter extends LiveActor<typeof CounterEvents, { total: number; last?: string }> implements Handlers<typeof CounterEvents> {
  static events = CounterEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.total = 0
  }

  Add(by: number, who: string) {
    return this.Fire('added', { by, who })
  }

  added(data: EventData<typeof CounterEvents, 'added'>): void {
    this._state.total += data.by
    this._state.last = data.who
  }
}
