import { z } from 'zod'
import { OneActor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const StockEvents = defineEvents({
  restocked: z.object({ qty: z.number().int().positive() }),
  sold: z.object({ qty: z.number().int().positive(), order: z.string() }),
})

type Events = typeof StockEvents

/**
 * A stock level that must never go below zero, sold from many processes at once. As a
 * OneActor, every sale is applied by the one leader before it is stored, so the check in
 * `sold` sees every earlier sale: a sale that would oversell is rejected, never stored.
 */
export class Stock extends OneActor<Events, { left: number; sold: number }> {
  static events = StockEvents

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.left = 0
    this._state.sold = 0
  }

  Sell(qty: number, order: string) {
    return this.Fire('sold', { qty, order })
  }

  Restock(qty: number) {
    return this.Fire('restocked', { qty })
  }

  restocked(data: EventData<Events, 'restocked'>): void {
    this._state.left += data.qty
  }

  sold(data: EventData<Events, 'sold'>): void {
    if (data.qty > this._state.left) throw new Error(`only ${this._state.left} left, ${data.qty} asked`)
    this._state.left -= data.qty
    this._state.sold += data.qty
  }
}
