// A consumer's program in plain JavaScript, run with plain `node` on the installed tarball.
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { Actor, createContainer, defineEvents } from 'omniscient-actors'
import { SqliteStore as SqliteFromSubpath } from 'omniscient-actors/sqlite'
import { SqliteStore } from 'omniscient-actors'
import { Given } from 'omniscient-actors/testing'

const CartEvents = defineEvents({ item_added: z.object({ sku: z.string(), qty: z.number().int().positive() }) })

class Cart extends Actor {
  static events = CartEvents
  constructor(id, container) {
    super(id, container)
    this._state.items = {}
  }
  Add(sku, qty) {
    return this.Fire('item_added', { sku, qty })
  }
  item_added(data) {
    this._state.items[data.sku] = (this._state.items[data.sku] ?? 0) + data.qty
  }
}

const file = join(process.argv[2] ?? tmpdir(), 'shop.db')
const first = createContainer({ store: new SqliteStore({ file }) })
const cart = await new Cart('cart-42', first).Load()
await cart.Add('apple', 2)
await cart.Add('pear', 1)
await first.close()

const second = createContainer({ store: new SqliteStore({ file }) })
const replayed = await new Cart('cart-42', second).Load()
await second.close()

const scenario = await Given('a cart with an apple', [{ name: 'item_added', data: { sku: 'apple', qty: 1 } }])
  .When(Cart, 'Add', 'apple', 2)
  .Then([{ name: 'item_added', data: { sku: 'apple', qty: '{number}' } }])
  .AndState({ items: { apple: 3 } })

console.log(JSON.stringify({
  resolved: import.meta.resolve('omniscient-actors'),
  sameSqliteStore: SqliteStore === SqliteFromSubpath,
  state: replayed._state,
  version: replayed.version,
  scenarioFired: scenario.fired.length,
}))
