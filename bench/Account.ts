import { z } from 'zod'
import { Actor, defineEvents, type Container, type EventData } from 'omniscient-actors'

// The actor every benchmark fires at: one small event, one number of state.

export const BenchEvents = defineEvents({
  deposited: z.object({ amount: z.number(), note: z.string() }),
})

export class Account extends Actor<typeof BenchEvents, { balance: number }> {
  static events = BenchEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.balance = 0
  }
  deposited(data: EventData<typeof BenchEvents, 'deposited'>) {
    this._state.balance += data.amount
  }
}

export const NOTE = 'a deposit of some money into the account'
