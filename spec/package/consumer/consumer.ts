// A consumer's TypeScript, checked by the consumer's own tsc (strict, skipLibCheck false)
// against the declarations of the installed tarball, every entry point at once.
import { z } from 'zod'
import {
  Actor,
  LiveActor,
  createContainer,
  defineEvents,
  MemoryStore,
  SqliteStore,
  type Container,
  type EventData,
  type Handlers,
} from 'omniscient-actors'
import { SqliteStore as SqliteFromSubpath } from 'omniscient-actors/sqlite'
import { PgStore } from 'omniscient-actors/postgres'
import { Given } from 'omniscient-actors/testing'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { ReadModel } from 'omniscient-actors/read'
import { AppendNotSentError, RemoteStore } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { serveSync } from 'omniscient-actors/sync-server'

const CartEvents = defineEvents({
  item_added: z.object({ sku: z.string(), qty: z.number().int().positive() }),
  checked_out: z.undefined(),
})
type E = typeof CartEvents

export class Cart extends Actor<E, { items: Record<string, number>; done: boolean }> implements Handlers<E> {
  static events = CartEvents
  constructor(id: string, container: Container) {
    super(id, container)
    this._state.items = {}
    this._state.done = false
  }
  async Add(sku: string, qty: number): Promise<void> {
    await this.Fire('item_added', { sku, qty })
  }
  item_added(data: EventData<E, 'item_added'>): void {
    this._state.items[data.sku] = (this._state.items[data.sku] ?? 0) + data.qty
  }
  checked_out(): void {
    this._state.done = true
  }
}

export class Shared extends LiveActor<E> implements Handlers<E, 'checked_out'> {
  static events = CartEvents
  item_added(_data: EventData<E, 'item_added'>): void {}
}

export const stores = [
  new MemoryStore(),
  new SqliteStore({ file: ':memory:' }),
  new SqliteFromSubpath({ file: ':memory:', durability: 'normal' }),
  new PgStore({ connectionString: 'postgres://localhost/app', pool: { max: 4 } }),
  new RethinkStore({ url: 'rethinkdb://127.0.0.1:28015/app' }),
]
// The other entry points, so that their declarations are checked too.
export const elsewhere = { AppendNotSentError, ReadModel, RemoteStore, SqliteCopy, serveSync }
export const container = createContainer({ store: stores[0]! })

export async function spec(): Promise<void> {
  await Given('a cart with an apple', [{ name: 'item_added', data: { sku: 'apple', qty: 1 } }])
    .When(Cart, 'Add', 'apple', 2)
    .Then([{ name: 'item_added', data: { sku: 'apple', qty: '{number}' } }])
    .AndState({ items: { apple: 3 } })
}
