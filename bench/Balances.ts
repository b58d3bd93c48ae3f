import type { EventData, EventEnvelope } from 'omniscient-actors'
import { Projection, ReadModel, type Derived } from 'omniscient-actors/read'
import { BenchEvents } from './Account.js'

type E = typeof BenchEvents

// The read model and the projection the read-side benchmarks run: one document per account,
// and one derived event per deposit.

export class Balances extends ReadModel<E, { balance: number; deposits: number }> {
  static events = BenchEvents
  static modelName = 'balances'
  static indexes = { balance: (doc: { balance: number }) => doc.balance }
  deposited(data: EventData<E, 'deposited'>, event: EventEnvelope) {
    this.update(event.streamId, (doc = { balance: 0, deposits: 0 }) => ({ balance: doc.balance + data.amount, deposits: doc.deposits + 1 }))
  }
}

export class Receipts extends Projection<E, E> {
  static events = BenchEvents
  static derives = BenchEvents
  static projectionName = 'receipts'
  deposited(data: EventData<E, 'deposited'>, event: EventEnvelope): Derived<E>[] {
    if (event.streamId.startsWith('receipts-')) return []
    return [{ streamId: `receipts-${event.streamId}`, name: 'deposited', data }]
  }
}
