import { expect } from 'chai'
import { z } from 'zod'
import {
  Actor,
  ConcurrencyError,
  EventValidationError,
  HandlerError,
  ManualClock,
  MemoryStore,
  SnapshotCorruptError,
  UnknownEventError,
  createContainer,
  defineEvents,
  type AppliedEvent,
  type Container,
  type EventData,
  type EventEnvelope,
  type ReadStreamOptions,
} from 'omniscient-actors'
import { collect } from '../store/conformance.js'

const CartEvents = defineEvents({
  item_added: z.object({ sku: z.string().min(1), qty: z.number().int().positive() }),
  item_removed: z.object({ sku: z.string() }),
  checked_out: z.undefined(),
  tagged: z.object({ tags: z.record(z.string(), z.unknown()) }),
  exploded: z.object({}),
})
type CartEventsT = typeof CartEvents

interface CartState {
  items: Record<string, number>
  checkedOut: boolean
  seen: Array<{ name: string; version: number; at: number }>
  tags: Record<string, unknown>
}

class Cart extends Actor<CartEventsT, CartState> {
  static events = CartEvents
  static snapshotEvery = 0
  static handled = 0

  constructor(id: string, container: Container) {
    super(id, container)
    this._state.items = {}
    this._state.checkedOut = false
    this._state.seen = []
    this._state.tags = {}
  }

  Add(sku: string, qty: number) {
    return this.Fire('item_added', { sku, qty })
  }

  item_added(data: EventData<CartEventsT, 'item_added'>, event: AppliedEvent) {
    Cart.handled++
    this._state.items[data.sku] = (this._state.items[data.sku] ?? 0) + data.qty
    this._state.seen.push({ name: event.name, version: event.version, at: event.at })
  }

  item_removed(data: EventData<CartEventsT, 'item_removed'>) {
    Cart.handled++
    delete this._state.items[data.sku]
  }

  checked_out() {
    this._state.checkedOut = true
  }

  tagged(data: EventData<CartEventsT, 'tagged'>) {
    Object.assign(this._state.tags, data.tags)
  }

  exploded() {
    throw new Error('boom')
  }
}

class SnapshottingCart extends Cart {
  static override snapshotEvery = 5
  static actorType = 'SnapshottingCart'
}

/** Only cares about checkouts: it shares the cart's id and ignores everything else. */
const AuditEvents = defineEvents({ checked_out: z.undefined() })
class CheckoutAudit extends Actor<typeof AuditEvents, { checkouts: number }> {
  static events = AuditEvents
  constructor(id: string, container: Container) {
    super(id, container)
    this._state.checkouts = 0
  }
  checked_out() {
    this._state.checkouts++
  }
}

function setup(store = new MemoryStore()) {
  const reported: unknown[] = []
  const container = createContainer({ store, clock: new ManualClock(1_000), report: (err) => reported.push(err) })
  return { store, container, reported }
}

describe('Actor', () => {
  beforeEach(() => (Cart.handled = 0))

  describe('Load()', () => {
    it('should rebuild the state by handing each stored event to the method of its name', async () => {
      const { container } = setup()
      const first = await new Cart('c1', container).Load()
      await first.Add('apple', 2)
      await first.Add('pear', 1)
      await first.Fire('item_removed', { sku: 'pear' })
      await first.Fire('checked_out')

      const again = await new Cart('c1', container).Load()
      expect(again._state.items).to.deep.equal({ apple: 2 })
      expect(again._state.checkedOut).to.equal(true)
      expect(again.version).to.equal(4)
      expect(again._state.seen).to.deep.equal([
        { name: 'item_added', version: 1, at: 1_000 },
        { name: 'item_added', version: 2, at: 1_000 },
      ])
    })

    it('should apply events while it reads the stream, not after reading it all', async () => {
      const { store, container } = setup()
      const cart = await new Cart('c1', container).Load()
      for (let i = 0; i < 5; i++) await cart.Add(`sku${i}`, 1)
      const versionsSeenByReader: number[] = []
      const fresh = new Cart('c1', container)
      const readStream = store.readStream.bind(store)
      store.readStream = async function* (id: string, options?: ReadStreamOptions) {
        for await (const e of readStream(id, options)) {
          versionsSeenByReader.push(fresh.version)
          yield e
        }
      }
      await fresh.Load()
      expect(versionsSeenByReader).to.deep.equal([0, 1, 2, 3, 4])
    })

    it('should let classes that share an id each react only to the events they handle', async () => {
      const { container } = setup()
      const cart = await new Cart('shared', container).Load()
      await cart.Add('apple', 1)
      await cart.Fire('checked_out')
      const audit = await new CheckoutAudit('shared', container).Load()
      expect(audit._state).to.deep.equal({ checkouts: 1 })
      expect(audit.version).to.equal(2)
    })

    it('should lift events stored under an older schema version through the upcasters', async () => {
      const { store, container } = setup()
      await store.append('p1', [{ id: 'old', name: 'renamed', data: { name: 'Ada' }, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 0 })
      const ProfileEvents = defineEvents({
        renamed: {
          schema: z.object({ first: z.string(), last: z.string() }),
          version: 2,
          upcast: { 1: (old) => ({ first: (old as { name: string }).name, last: '' }) },
        },
      })
      class Profile extends Actor<typeof ProfileEvents, { first?: string; last?: string }> {
        static events = ProfileEvents
        renamed(data: EventData<typeof ProfileEvents, 'renamed'>) {
          this._state.first = data.first
          this._state.last = data.last
        }
      }
      const profile = await new Profile('p1', container).Load()
      expect(profile._state).to.deep.equal({ first: 'Ada', last: '' })
      const fired = await profile.Fire('renamed', { first: 'Grace', last: 'Hopper' })
      expect(fired.schemaVersion).to.equal(2)
    })

    it('should refuse, naming the event, data stored by newer code than it knows', async () => {
      const { store, container } = setup()
      await store.append('c1', [{ id: 'x', name: 'item_added', data: { sku: 'a', qty: 1 }, schemaVersion: 3, at: 0, meta: {} }], { expectedVersion: 0 })
      const err = await new Cart('c1', container).Load().catch((e: unknown) => e)
      expect(err).to.be.instanceOf(HandlerError)
      expect((err as HandlerError).cause).to.be.instanceOf(EventValidationError)
      expect((err as Error).message).to.match(/item_added.*schema version 3/)
    })
  })

  describe('Fire()', () => {
    it('should resolve with the stored envelope and publish it by name, by stream and to all', async () => {
      const { container } = setup()
      const byName: EventEnvelope[] = []
      const byStream: EventEnvelope[] = []
      const all: EventEnvelope[] = []
      container.bus.on(CartEvents, 'item_added', (e) => void byName.push(e))
      container.bus.onStream('c1', (e) => void byStream.push(e))
      container.bus.subscribeAll((e) => void all.push(e))
      const cart = await new Cart('c1', container).Load()
      const envelope = await cart.Add('apple', 3)
      expect(envelope).to.include({ streamId: 'c1', version: 1, name: 'item_added', schemaVersion: 1, at: 1_000 })
      expect(envelope.position).to.be.a('number')
      expect(envelope.data).to.deep.equal({ sku: 'apple', qty: 3 })
      expect(envelope.meta).to.deep.equal({ actorType: 'Cart' })
      expect(byName).to.deep.equal([envelope])
      expect(byStream).to.deep.equal([envelope])
      expect(all).to.deep.equal([envelope])
    })

    it('should refuse invalid data with an EventValidationError naming event and field, storing nothing', async () => {
      const { store, container } = setup()
      const cart = await new Cart('c1', container).Load()
      // @ts-expect-error qty must be a number
      const err = await cart.Fire('item_added', { sku: 'apple', qty: 'two' }).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(EventValidationError)
      const validation = err as EventValidationError
      expect(validation.code).to.equal('EVENT_VALIDATION')
      expect(validation.eventName).to.equal('item_added')
      expect(validation.issues[0]!.path).to.deep.equal(['qty'])
      expect(validation.message).to.match(/"item_added".*qty/)
      expect(cart._state.items).to.deep.equal({})
      expect(await store.streamVersion('c1')).to.equal(0)
    })

    it('should refuse an unknown event name with UnknownEventError listing the known ones', async () => {
      const { store, container } = setup()
      const cart = await new Cart('c1', container).Load()
      // @ts-expect-error no such event
      const err = await cart.Fire('item_dropped', {}).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(UnknownEventError)
      expect(err).to.include({ code: 'UNKNOWN_EVENT', eventName: 'item_dropped' })
      expect((err as Error).message).to.include('item_added')
      expect(await store.streamVersion('c1')).to.equal(0)
    })

    it('should refuse prototype-polluting keys before they reach the state', async () => {
      const { store, container } = setup()
      const cart = await new Cart('c1', container).Load()
      for (const hostile of ['{"__proto__": {"polluted": 1}}', '{"constructor": {"prototype": {"polluted": 1}}}']) {
        const tags = JSON.parse(hostile) as Record<string, unknown>
        const err = await cart.Fire('tagged', { tags }).catch((e: unknown) => e)
        expect(err).to.be.instanceOf(EventValidationError)
        expect((err as EventValidationError).issues[0]!.path[0]).to.equal('tags')
      }
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined)
      expect(cart._state.tags).to.deep.equal({})
      expect(await store.streamVersion('c1')).to.equal(0)
    })

    it('should reject a conflicting append with ConcurrencyError and leave the actor equal to the store', async () => {
      const { container } = setup()
      const a = await new Cart('c1', container).Load()
      const b = await new Cart('c1', container).Load()
      await a.Add('apple', 1)
      const err = await b.Add('pear', 1).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(ConcurrencyError)
      expect(err).to.include({ expectedVersion: 0, actualVersion: 1 })
      expect(b._state.items).to.deep.equal({ apple: 1 })
      expect(b.version).to.equal(1)
      await b.Add('pear', 1)
      expect((await new Cart('c1', container).Load())._state.items).to.deep.equal({ apple: 1, pear: 1 })
    })

    it('should store nothing and restore the state when a handler throws', async () => {
      const { store, container } = setup()
      const cart = await new Cart('c1', container).Load()
      await cart.Add('apple', 1)
      const err = await cart.Fire('exploded', {}).catch((e: unknown) => e)
      expect(err).to.be.instanceOf(HandlerError)
      expect(err).to.include({ eventName: 'exploded', version: 2, streamId: 'c1' })
      expect(await store.streamVersion('c1')).to.equal(1)
      expect(cart.version).to.equal(1)
      expect(cart._state.items).to.deep.equal({ apple: 1 })
    })

    it('should apply Fires one at a time, in call order, even when not awaited', async () => {
      const { container } = setup()
      const cart = await new Cart('c1', container).Load()
      const pending = [cart.Add('a', 1), cart.Add('b', 1), cart.Add('c', 1)]
      await cart.Idle()
      expect(cart.version).to.equal(3)
      expect((await Promise.all(pending)).map((e) => e.version)).to.deep.equal([1, 2, 3])
    })

    it('should keep firing when a bus listener throws, and report the error', async () => {
      const { container, reported } = setup()
      const heard: string[] = []
      container.bus.subscribeAll(() => {
        throw new Error('listener bug')
      })
      container.bus.subscribeAll(async () => Promise.reject(new Error('async listener bug')))
      container.bus.subscribeAll((e) => void heard.push(e.name))
      const cart = await new Cart('c1', container).Load()
      await cart.Add('apple', 1)
      await new Promise((r) => setImmediate(r))
      expect(heard).to.deep.equal(['item_added'])
      expect(reported.map((e) => (e as Error).message)).to.deep.equal(['listener bug', 'async listener bug'])
    })
  })

  describe('snapshots', () => {
    async function fill(container: Container, n: number) {
      const cart = await new SnapshottingCart('c1', container).Load()
      for (let i = 0; i < n; i++) await cart.Add(`sku${i}`, 1)
      return cart
    }

    it('should save a snapshot every N events and Load from it, replaying only the rest', async () => {
      const { store, container } = setup()
      const original = await fill(container, 12)
      const snapshot = await store.loadSnapshot('SnapshottingCart', 'c1')
      expect(snapshot).to.include({ version: 10, snapshotVersion: 1 })
      Cart.handled = 0
      const loaded = await new SnapshottingCart('c1', container).Load()
      expect(Cart.handled, 'events replayed after the snapshot').to.equal(2)
      expect(loaded._state).to.deep.equal(original._state)
      expect(loaded.version).to.equal(12)
    })

    it('should ignore a snapshot whose stamp no longer matches the class and replay the stream', async () => {
      const { store, container } = setup()
      await fill(container, 12)
      class ChangedMeaning extends SnapshottingCart {
        static snapshotVersion = 2
        override item_added(data: EventData<CartEventsT, 'item_added'>, event: AppliedEvent) {
          super.item_added({ ...data, qty: data.qty * 10 }, event)
        }
      }
      Cart.handled = 0
      const loaded = await new ChangedMeaning('c1', container).Load()
      expect(Cart.handled).to.equal(12)
      expect(loaded._state.items['sku0']).to.equal(10)
      expect((await store.loadSnapshot('SnapshottingCart', 'c1'))?.snapshotVersion).to.equal(2)
    })

    it('should report a corrupt snapshot and replay the whole stream instead', async () => {
      const { store, container, reported } = setup()
      const original = await fill(container, 6)
      store.corruptSnapshot('SnapshottingCart', 'c1', '{"state": {"items": ')
      Cart.handled = 0
      const loaded = await new SnapshottingCart('c1', container).Load()
      expect(Cart.handled).to.equal(6)
      expect(loaded._state).to.deep.equal(original._state)
      expect(reported).to.have.length(1)
      expect(reported[0]).to.be.instanceOf(SnapshotCorruptError)
    })

    it('should never change what the stream holds', async () => {
      const { store, container } = setup()
      await fill(container, 7)
      expect((await collect(store.readStream('c1'))).map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6, 7])
    })
  })

  describe('construction', () => {
    it('should refuse an empty id and a class without static events', () => {
      const { container } = setup()
      expect(() => new Cart('', container)).to.throw(TypeError, /non-empty/)
      class NoEvents extends Actor {}
      expect(() => new (NoEvents as unknown as new (id: string, c: Container) => Actor)('x', container)).to.throw(TypeError, /static events/)
    })
  })
})
