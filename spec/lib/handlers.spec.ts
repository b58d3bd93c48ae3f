import { expect } from 'chai'
import { z } from 'zod'
import { Actor, createContainer, defineEvents, MisspeltHandlerError, type Container } from 'omniscient-actors'

const ShopEvents = defineEvents({
  item_added: z.object({ sku: z.string() }),
  checked_out: z.undefined(),
  tick: z.undefined(),
})
type E = typeof ShopEvents

class Shop extends Actor<E, { items: string[] }> {
  static events = ShopEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.items = []
  }
  item_aded(data: { sku: string }) {
    this._state.items.push(data.sku)
  }
  chekced_out() {}
  Tick() {} // a command named after its event: not a typo
  kick() {} // one edit from "tick", but four letters are too few to tell
  Checkout() {}
}

function reporting(): { reported: unknown[]; container: Container } {
  const reported: unknown[] = []
  return { reported, container: createContainer({ report: (err) => reported.push(err) }) }
}

describe('misspelt handlers', () => {
  it('should report each method one edit away from an event name, once per class and container', async () => {
    const { reported, container } = reporting()
    await new Shop('a', container).Load()
    await new Shop('b', container).Load()
    expect(reported.map((e) => (e as MisspeltHandlerError).method)).to.have.members(['item_aded', 'chekced_out'])
    const err = reported[0] as MisspeltHandlerError
    expect(err).to.be.instanceOf(MisspeltHandlerError)
    expect(err.code).to.equal('MISSPELT_HANDLER')
    expect(err.actorType).to.equal('Shop')
    expect(err.message).to.match(/Shop has a method "(item_aded|chekced_out)", one edit away from its event "(item_added|checked_out)"/)

    const other = reporting()
    await new Shop('a', other.container).Load()
    expect(other.reported, 'another container hears it again').to.have.length(2)
  })

  it('should stay silent for a class whose handlers are named exactly', async () => {
    class Tidy extends Actor<E> {
      static events = ShopEvents
      item_added() {}
      checked_out() {}
      get item_addd(): number {
        throw new Error('a getter is never read by the check')
      }
    }
    const { reported, container } = reporting()
    await new Tidy('t', container).Load()
    expect(reported).to.deep.equal([])
  })
})
