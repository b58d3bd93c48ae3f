import { z } from 'zod'
import { LiveActor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const TallyEvents = defineEvents({
  counted: z.object({ by: z.string(), n: z.number().int() }),
})

/** A LiveActor whose state records the order it applied events in, so equal states mean equal orders. */
export class Tally extends LiveActor<typeof TallyEvents, { order: string[]; total: number }> {
  static events = TallyEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.order = []
    this._state.total = 0
  }
  counted(data: EventData<typeof TallyEvents, 'counted'>) {
    this._state.order.push(`${data.by}#${data.n}`)
    this._state.total += 1
  }
}
