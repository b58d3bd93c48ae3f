import { expect } from 'chai'
import fc from 'fast-check'
import { z } from 'zod'
import {
  LiveActor,
  ManualClock,
  MemoryStore,
  PreconditionFailedError,
  createContainer,
  defineEvents,
  type Container,
  type EventData,
  type EventEnvelope,
  type StorageAdapter,
  type SubscribeOptions,
  type SubscriptionHandler,
} from 'omniscient-actors'
import { collect } from '../store/conformance.js'

const LedgerEvents = defineEvents({
  written: z.object({ by: z.string(), n: z.number() }),
  seat_taken: z.object({ by: z.string() }),
  broken: z.object({}),
})
type E = typeof LedgerEvents

interface LedgerState {
  lines: string[]
  seatsLeft: number
}

class Ledger extends LiveActor<E, LedgerState> {
  static events = LedgerEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.lines = []
    this._state.seatsLeft = 1
  }
  written(data: EventData<E, 'written'>) {
    this._state.lines.push(`${data.by}:${data.n}`)
  }
  seat_taken() {
    this._state.seatsLeft--
  }
  broken() {
    throw new Error('cannot apply')
  }
}

async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

function setup(store: StorageAdapter = new MemoryStore()) {
  const reported: unknown[] = []
  return { store, reported, container: createContainer({ store, clock: new ManualClock(0), report: (err) => reported.push(err) }) }
}

describe('LiveActor', () => {
  const running: Ledger[] = []
  async function live(id: string, container: Container): Promise<Ledger> {
    const actor = await new Ledger(id, container).Load()
    running.push(actor)
    return actor
  }
  afterEach(async () => {
    await Promise.all(running.splice(0).map((a) => a.Stop()))
  })

  it('should follow its stream live: another instance sees a Fire without reloading', async () => {
    const { container } = setup()
    const a = await live('l1', container)
    const b = await live('l1', container)
    await a.Fire('written', { by: 'a', n: 1 })
    await until(() => b.version === 1, 'b to follow')
    expect(b._state.lines).to.deep.equal(['a:1'])
  })

  it('should re-apply a Fire that lost a race on top of the competing event, at the next version', async () => {
    const { store, container } = setup()
    const a = await live('l1', container)
    const b = await live('l1', container)
    const [ea, eb] = await Promise.all([a.Fire('written', { by: 'a', n: 1 }), b.Fire('written', { by: 'b', n: 1 })])
    expect([ea.version, eb.version].sort()).to.deep.equal([1, 2])
    await until(() => a.version === 2 && b.version === 2, 'both to converge')
    const stored = (await collect(store.readStream('l1'))).map((e) => `${(e.data as { by: string }).by}`)
    const expected = stored.map((by) => `${by}:1`)
    expect(a._state.lines).to.deep.equal(expected)
    expect(b._state.lines).to.deep.equal(expected)
  })

  it('should re-check the precondition before re-applying, and drop the event if it fails', async () => {
    const { store, container } = setup()
    const a = await live('seat', container)
    const b = await live('seat', container)
    const hasSeat = { precondition: (s: Readonly<LedgerState>) => s.seatsLeft > 0 }
    const outcomes = await Promise.allSettled([a.Fire('seat_taken', { by: 'a' }, hasSeat), b.Fire('seat_taken', { by: 'b' }, hasSeat)])
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    expect(rejected).to.have.length(1)
    expect(rejected[0]!.reason).to.be.instanceOf(PreconditionFailedError)
    expect(await store.streamVersion('seat')).to.equal(1)
    await until(() => a.version === 1 && b.version === 1, 'both to converge')
    expect([a._state.seatsLeft, b._state.seatsLeft]).to.deep.equal([0, 0])
  })

  it('should apply events in version order, holding back one that arrives early', async () => {
    const inner = new MemoryStore()
    // A store whose live delivery swaps two events, as an unordered transport might.
    const swapping: StorageAdapter = Object.assign(Object.create(inner) as StorageAdapter, {
      subscribe(options: SubscribeOptions, handler: SubscriptionHandler) {
        let held: EventEnvelope | undefined
        return inner.subscribe(options, async (e) => {
          if (e.version === 2 && !held) return void (held = e)
          await handler(e)
          if (held && e.version === 3) await handler(held)
        })
      },
    })
    const { container } = setup(swapping)
    const watcher = await live('l1', container)
    const writer = await live('l1', createContainer({ store: inner }))
    for (let n = 1; n <= 4; n++) await writer.Fire('written', { by: 'w', n })
    await until(() => watcher.version === 4, 'the watcher to catch up')
    expect(watcher._state.lines).to.deep.equal(['w:1', 'w:2', 'w:3', 'w:4'])
  })

  it('should stop following after Stop(), and follow again after Load()', async () => {
    const { container } = setup()
    const a = await live('l1', container)
    const b = await live('l1', container)
    await b.Stop()
    expect(b.Following).to.equal(false)
    await a.Fire('written', { by: 'a', n: 1 })
    await new Promise((r) => setTimeout(r, 20))
    expect(b.version).to.equal(0)
    await b.Load()
    await a.Fire('written', { by: 'a', n: 2 })
    await until(() => b.version === 2, 'b to follow again')
  })

  it('should report a stored event it cannot apply, and refuse to fire on half-applied state', async () => {
    const { store, container, reported } = setup()
    const watcher = await live('l1', container)
    // Written straight to the store, as a newer version of the code might have.
    await store.append('l1', [{ id: 'bad', name: 'broken', data: {}, schemaVersion: 1, at: 0, meta: {} }], { expectedVersion: 0 })
    await until(() => reported.length === 1, 'the failure to be reported')
    expect(reported[0]).to.have.property('code', 'HANDLER')
    const err = await watcher.Fire('written', { by: 'w', n: 1 }).catch((e: unknown) => e)
    expect(err).to.have.property('code', 'HANDLER')
    expect(await store.streamVersion('l1')).to.equal(1)
  })

  it('should converge every instance on the store order, whatever the interleaving (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 30 }),
        async (instances, plan) => {
          const { store, container } = setup()
          const actors = await Promise.all(Array.from({ length: instances }, () => new Ledger('p', container).Load()))
          try {
            const fires = plan.map(async ([who, delay], n) => {
              const actor = actors[who % instances]!
              for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r))
              return actor.Fire('written', { by: `i${who % instances}`, n })
            })
            const envelopes = await Promise.all(fires)
            expect(envelopes.map((e) => e.version).sort((x, y) => x - y)).to.deep.equal(plan.map((_, i) => i + 1))
            await until(() => actors.every((a) => a.version === plan.length), 'every instance to converge')
            const fresh = await new Ledger('p', container).Load()
            await fresh.Stop()
            for (const actor of actors) expect(actor._state).to.deep.equal(fresh._state)
            expect(await store.streamVersion('p')).to.equal(plan.length)
          } finally {
            await Promise.all(actors.map((a) => a.Stop()))
          }
        },
      ),
      { numRuns: 40 },
    )
  })
})
