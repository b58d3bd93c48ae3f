import { z } from 'zod'
import { OneActor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const StockEvents = defineEvents({
  received: z.object({ qty: z.number().int().positive() }),
  sold: z.object({ qty: z.number().int().positive(), to: z.string() }),
})
type E = typeof StockEvents

/**
 * A OneActor whose handler refuses to sell more than is left, so a leader that applied a
 * stale view would throw: the OneActor specs' subject. Subclasses set other lease timings.
 */
export class Stock extends OneActor<E, { left: number; sales: string[] }> {
  static events = StockEvents
  static leaseMs = 1_000
  static renewEveryMs = 250
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.left = 0
    this._state.sales = []
  }
  received(d: EventData<E, 'received'>) {
    this._state.left += d.qty
  }
  sold(d: EventData<E, 'sold'>) {
    if (d.qty > this._state.left) throw new Error(`only ${this._state.left} left`)
    this._state.left -= d.qty
    this._state.sales.push(d.to)
  }
}
