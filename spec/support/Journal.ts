import { z } from 'zod'
import { OneActor, defineEvents, type Container } from 'omniscient-actors'

export const JournalEvents = defineEvents({
  entry: z.object({ by: z.string(), n: z.number().int() }),
})

/** A OneActor that records entries; the failover specs count them. */
export class Journal extends OneActor<typeof JournalEvents, { entries: number }> {
  static events = JournalEvents
  static leaseMs = 2_000
  static renewEveryMs = 500
  static proposalTimeoutMs = 8_000
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.entries = 0
  }
  entry() {
    this._state.entries++
  }
}
