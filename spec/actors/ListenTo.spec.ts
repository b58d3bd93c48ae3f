import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, OutageError, StorageError, createContainer, defineEvents, type Container, type EventEnvelope } from 'omniscient-actors'
import { collect } from '../store/conformance.js'

const NoteEvents = defineEvents({
  noted: z.object({ text: z.string() }),
  reacted: z.object({ to: z.string() }),
})

class Notebook extends Actor<typeof NoteEvents, { notes: string[]; reactions: string[] }> {
  static events = NoteEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.notes = []
    this._state.reactions = []
  }
  noted(d: { text: string }) {
    this._state.notes.push(d.text)
  }
  reacted(d: { to: string }) {
    this._state.reactions.push(d.to)
  }
}

/** Reacts to notes: on one stream, or to the name `noted` anywhere. */
class Reactor extends Notebook {
  static actorType = 'Reactor'
  heard: EventEnvelope[] = []
  constructor(id: string, c: Container, listen: { target: string | { names: string[] }; durable?: string; failFirst?: number }) {
    super(id, c)
    let failures = listen.failFirst ?? 0
    this.ListenTo(
      listen.target,
      async (e) => {
        if (failures-- > 0) throw new Error('not yet')
        this.heard.push(e)
        if (e.name === 'noted') await this.Fire('reacted', { to: (e.data as { text: string }).text }, { causedBy: e })
      },
      listen.durable === undefined ? {} : { durable: listen.durable },
    )
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

function setup() {
  const store = new MemoryStore()
  const reported: unknown[] = []
  return { store, reported, container: createContainer({ store, report: (err) => reported.push(err) }) }
}

describe('ListenTo', () => {
  it('should hear another actor once loaded, and Fire on its own stream with causation', async () => {
    const { store, container } = setup()
    const source = await new Notebook('source', container).Load()
    const reactor = await new Reactor('reactor', container, { target: 'source' }).Load()
    const fired = await source.Fire('noted', { text: 'hello' })
    await until(() => reactor._state.reactions.length === 1, 'the reaction')
    const [reaction] = await collect(store.readStream('reactor'))
    expect(reaction!.meta).to.include({ causationId: fired.id, correlationId: fired.id, actorType: 'Reactor' })
    await reactor.Stop()
  })

  it('should hear an event name on every stream', async () => {
    const { container } = setup()
    const reactor = await new Reactor('reactor', container, { target: { names: ['noted'] } }).Load()
    await (await new Notebook('a', container).Load()).Fire('noted', { text: 'from a' })
    await (await new Notebook('b', container).Load()).Fire('noted', { text: 'from b' })
    await until(() => reactor._state.reactions.length === 2, 'both reactions')
    expect(reactor._state.reactions).to.deep.equal(['from a', 'from b'])
    await reactor.Stop()
  })

  it('should report a failing handler once, retry the same event until it succeeds, then report the count', async () => {
    const { container, reported } = setup()
    const reactor = await new Reactor('reactor', container, { target: 'source', failFirst: 3 }).Load()
    await (await new Notebook('source', container).Load()).Fire('noted', { text: 'x' })
    await until(() => reactor.Stuck !== undefined, 'the listener to say it is stuck')
    expect(reactor.Stuck).to.include({ where: 'listener on "source"' })
    expect((reactor.Stuck!.error as Error).message).to.equal('not yet')
    await until(() => reactor._state.reactions.length === 1, 'the reaction after retries')
    expect(reported).to.have.length(2)
    expect((reported[0] as Error).message).to.equal('not yet')
    expect(reported[1]).to.be.instanceOf(OutageError).and.include({ code: 'OUTAGE', failures: 3, where: 'listener on "source"' })
    expect(reactor.heard).to.have.length(1)
    expect(reactor.Stuck).to.equal(undefined)
    await reactor.Stop()
  })

  it('should start once the store answers when it failed as the listener started: reported once, then the count', async () => {
    const { store, container, reported } = setup()
    const source = await new Notebook('source', container).Load()
    await source.Fire('noted', { text: 'before' })
    // The checkpoint cannot be read at first, as when a leader takes over while the store fails.
    const loadCheckpoint = store.loadCheckpoint.bind(store)
    let failing = 3
    store.loadCheckpoint = (name) => (failing-- > 0 ? Promise.reject(new StorageError('the store is away', { code: 'STORAGE_UNAVAILABLE' })) : loadCheckpoint(name))
    const reactor = await new Reactor('reactor', container, { target: 'source', durable: 'reactor:source' }).Load()
    await until(() => reactor._state.reactions.length === 1, 'the history, once the store answers')
    await source.Fire('noted', { text: 'after' })
    await until(() => reactor._state.reactions.length === 2, 'a new event')
    expect(reported.map((e) => (e as { code?: string }).code)).to.deep.equal(['STORAGE_UNAVAILABLE', 'OUTAGE'])
    expect(reported[1]).to.include({ failures: 3 })
    await reactor.Stop()
  })

  it('should, when durable, resume after its checkpoint: nothing missed while down, nothing repeated', async () => {
    const { store, container } = setup()
    const source = await new Notebook('source', container).Load()
    await source.Fire('noted', { text: 'before' })
    const first = await new Reactor('reactor', container, { target: 'source', durable: 'reactor:source' }).Load()
    await until(() => first._state.reactions.length === 1, 'the history')
    await first.Stop()
    expect(await store.loadCheckpoint('reactor:source')).to.equal(1)
    await source.Fire('noted', { text: 'while down 1' })
    await source.Fire('noted', { text: 'while down 2' })
    const second = await new Reactor('reactor', container, { target: 'source', durable: 'reactor:source' }).Load()
    await until(() => second._state.reactions.length === 3, 'the missed events')
    expect(second.heard.map((e) => (e.data as { text: string }).text)).to.deep.equal(['while down 1', 'while down 2'])
    await second.Stop()
  })

  it('should store a reaction once when the same event is handled twice (causedBy)', async () => {
    const { store, container } = setup()
    const source = await new Notebook('source', container).Load()
    const cause = await source.Fire('noted', { text: 'once' })
    const reactor = await new Notebook('reactor', container).Load()
    const first = await reactor.Fire('reacted', { to: 'once' }, { causedBy: cause })
    const again = await reactor.Fire('reacted', { to: 'once' }, { causedBy: cause })
    expect(again).to.deep.equal(first)
    expect(await store.streamVersion('reactor')).to.equal(1)
    expect(reactor._state.reactions).to.deep.equal(['once'])
    expect(reactor.version).to.equal(1)
  })
})
