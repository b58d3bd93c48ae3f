import { expect } from 'chai'
import { z } from 'zod'
import { createContainer, defineEvents, MemoryStore, MisspeltHandlerError, type Container, type EventData, type EventEnvelope, type StorageAdapter } from 'omniscient-actors'
import { Projection, ReadModel, type Derived } from 'omniscient-actors/read'
import { collect } from '../store/conformance.js'

const Events = defineEvents({
  item_added: z.object({ sku: z.string() }),
  checked_out: z.undefined(),
  // Named like members of the other read-side class: ReadModel's `delete`, Projection's `store`.
  delete: z.object({ sku: z.string() }),
  store: z.object({ sku: z.string() }),
})
type E = typeof Events

function append(store: StorageAdapter, streamId: string, name: keyof E, data: unknown) {
  return store.append(streamId, [{ id: `${streamId}-${name}`, name, data, schemaVersion: 1, at: 1, meta: {} }], { expectedVersion: 'any' })
}

describe('read-side handlers', () => {
  let store: MemoryStore
  let reported: unknown[]
  let container: Container
  beforeEach(() => {
    store = new MemoryStore()
    reported = []
    container = createContainer({ store, report: (err) => reported.push(err) })
  })
  afterEach(() => container.close())

  describe('misspelt handlers', () => {
    class Carts extends ReadModel<E, { skus: string[] }> {
      static events = Events
      item_aded() {} // one edit from item_added: never called
      checked_out() {}
    }
    class Receipts extends Projection<E, E> {
      static events = Events
      static derives = Events
      chekced_out(): Derived<E>[] {
        return []
      }
    }

    it('should report a read model method one edit away from an event name, once per class and container', () => {
      new Carts(container)
      new Carts(container)
      expect(reported).to.have.length(1)
      const err = reported[0] as MisspeltHandlerError
      expect(err).to.be.instanceOf(MisspeltHandlerError)
      expect(err).to.include({ code: 'MISSPELT_HANDLER', actorType: 'Carts', method: 'item_aded', eventName: 'item_added' })
    })

    it('should report a projection method one edit away from an event name', () => {
      new Receipts(container)
      expect(reported.map((e) => (e as MisspeltHandlerError).method)).to.deep.equal(['chekced_out'])
    })

    it('should not take framework members for misspelt handlers', () => {
      // `start` and `stop` (ReadModel's and Projection's) are one edit from these events.
      const Lifecycle = defineEvents({ starts: z.undefined(), stops: z.undefined() })
      class Quiet extends ReadModel<typeof Lifecycle> {
        static events = Lifecycle
        starts() {}
      }
      class Still extends Projection<typeof Lifecycle> {
        static events = Lifecycle
      }
      new Quiet(container)
      new Still(container)
      expect(reported).to.deep.equal([])
    })
  })

  it("should call a projection's handler named like a ReadModel member, and a read model's named like a Projection member", async () => {
    class Removals extends Projection<E, E> {
      static events = Events
      static derives = Events
      delete(data: EventData<E, 'delete'>, event: EventEnvelope): Derived<E>[] {
        return [{ streamId: `removed-${event.streamId}`, name: 'item_added', data: { sku: data.sku } }]
      }
    }
    class Stores extends ReadModel<E, { sku: string }> {
      static events = Events
      static storage = 'memory' as const
      store(data: EventData<E, 'store'>, event: EventEnvelope) {
        this.set(event.streamId, { sku: data.sku })
      }
    }
    const { events: [removed] } = await append(store, 'cart-1', 'delete', { sku: 'a' })
    const { events: [opened] } = await append(store, 'shop-1', 'store', { sku: 'b' })
    const removals = await new Removals(container).start()
    const stores = await new Stores(container).start()
    await removals.waitFor(removed!, { timeoutMs: 5_000 })
    await stores.waitFor(opened!, { timeoutMs: 5_000 })
    expect((await collect(store.readStream('removed-cart-1'))).map((e) => e.data)).to.deep.equal([{ sku: 'a' }])
    expect(await stores.get('shop-1')).to.deep.equal({ sku: 'b' })
  })
})
