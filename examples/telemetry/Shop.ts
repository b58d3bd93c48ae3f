import { z } from 'zod'
import { Actor, defineEvents, type Container, type EventData } from 'omniscient-actors'

export const OrderEvents = defineEvents({
  placed: z.object({ item: z.string(), qty: z.number().int().positive() }),
})

/** An order: one stream per order id. */
export class Order extends Actor<typeof OrderEvents, { items: string[] }> {
  static events = OrderEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.items = []
  }
  Place(item: string, qty: number) {
    return this.Fire('placed', { item, qty })
  }
  placed(data: EventData<typeof OrderEvents, 'placed'>) {
    this._state.items.push(data.item)
  }
}

export const ShipmentEvents = defineEvents({
  shipped: z.object({ order: z.string(), item: z.string() }),
})

/** Ships every order placed, in whichever process runs it: a durable listener by event name. */
export class Shipper extends Actor<typeof ShipmentEvents, { shipped: number }> {
  static events = ShipmentEvents
  constructor(id: string, c: Container, onShipped: (order: string) => void) {
    super(id, c)
    this._state.shipped = 0
    this.ListenTo(
      { names: ['placed'] },
      async (e) => {
        const { item } = e.data as EventData<typeof OrderEvents, 'placed'>
        await this.Fire('shipped', { order: e.streamId, item }, { causedBy: e })
        onShipped(e.streamId)
      },
      { durable: 'shipper' },
    )
  }
  shipped() {
    this._state.shipped++
  }
}
