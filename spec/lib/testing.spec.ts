import { AssertionError, expect } from 'chai'
import { z } from 'zod'
import { Actor, ConcurrencyError, defineEvents, EventValidationError, LiveActor, UnknownEventError, type Container, type EventData } from 'omniscient-actors'
import { Given } from 'omniscient-actors/testing'

const LampEvents = defineEvents({
  switched: z.object({ on: z.boolean(), by: z.string(), at: z.number() }),
  broken: z.object({ reason: z.string() }),
})
type E = typeof LampEvents

class Lamp extends Actor<E, { on: boolean; switches: number; owner: { name: string; rooms: string[] } }> {
  static events = LampEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.on = false
    this._state.switches = 0
    this._state.owner = { name: 'ann', rooms: ['hall'] }
  }
  async Toggle(by: string) {
    await this.Fire('switched', { on: !this._state.on, by, at: Date.now() })
  }
  ToggleWithoutAwait(by: string) {
    void this.Fire('switched', { on: !this._state.on, by, at: 1 })
  }
  async Break(reason: unknown) {
    await this.Fire('broken', { reason } as { reason: string })
  }
  switched(data: EventData<E, 'switched'>) {
    this._state.on = data.on
    this._state.switches++
  }
}

async function failure(scenario: PromiseLike<unknown>): Promise<InstanceType<typeof AssertionError>> {
  try {
    await scenario
  } catch (err) {
    expect(err).to.be.instanceOf(AssertionError)
    return err as InstanceType<typeof AssertionError>
  }
  throw new Error('the scenario should have failed')
}

describe('Given/When/Then', () => {
  it('should replay the Given events, run the command and compare the events it fired', async () => {
    const result = await Given('a lamp switched on once', [{ name: 'switched', data: { on: true, by: 'ann', at: 0 } }])
      .When(Lamp, 'Toggle', 'bob')
      .Then([{ name: 'switched', data: { on: false, by: 'bob', at: '{number}' } }])
      .AndState({ on: false, switches: 2 })
    expect(result.fired).to.have.length(1)
    expect(result.actor.version).to.equal(2)
  })

  it('should wait for Fires the command did not await', async () => {
    await Given('a new lamp').When(Lamp, 'ToggleWithoutAwait', 'bob').Then([{ name: 'switched', data: { on: true, by: 'bob', at: 1 } }])
  })

  it('should compare only the state keys it is given, and nested ones in full', async () => {
    await Given('a new lamp').When(Lamp, 'Toggle', 'x').AndState({ owner: { name: 'ann', rooms: ['hall'] } })
    const err = await failure(Given('a new lamp').When(Lamp, 'Toggle', 'x').AndState({ owner: { name: 'ann', rooms: ['kitchen'] } }))
    expect(err.message).to.include('And the state')
    expect(err.showDiff).to.equal(true)
    expect(JSON.stringify(err.actual)).to.include('hall')
  })

  it('should fail with a readable diff when an event differs', async () => {
    const err = await failure(
      Given('a new lamp').When(Lamp, 'Toggle', 'bob').Then([{ name: 'switched', data: { on: true, by: 'carol', at: '{number}' } }]),
    )
    expect(err.message).to.include('Given a new lamp, When Lamp.Toggle, Then the events fired')
    const actual = JSON.stringify(err.actual)
    expect(actual).to.include('"by":"bob"')
    expect(actual, 'a matched placeholder is not reported as a difference').to.include('"at":"{number}"')
  })

  it('should fail when a placeholder does not match the actual type', async () => {
    const err = await failure(Given('a new lamp').When(Lamp, 'Toggle', 'bob').Then([{ name: 'switched', data: { on: '{string}', by: '{string}', at: '{any}' } }]))
    expect(JSON.stringify(err.actual)).to.include('"on":true')
  })

  it('should fail when more or fewer events were fired than expected', async () => {
    await failure(Given('a new lamp').When(Lamp, 'Toggle', 'bob').Then([]))
    await failure(Given('a new lamp').When(Lamp, 'Toggle', 'bob').Then([{ name: 'switched' }, { name: 'switched' }]))
  })

  it('should expect a thrown error by class, by code or by message', async () => {
    await Given('a new lamp').When(Lamp, 'Break', 42).ThenThrows(EventValidationError).AndState({ switches: 0 })
    await Given('a new lamp').When(Lamp, 'Break', 42).ThenThrows('EVENT_VALIDATION')
    await Given('a new lamp').When(Lamp, 'Break', 42).ThenThrows(/"broken".*reason/)
    const wrongClass = await failure(Given('a new lamp').When(Lamp, 'Break', 42).ThenThrows(ConcurrencyError))
    expect(wrongClass.message).to.match(/expected it to throw a ConcurrencyError, but it threw EventValidationError/)
    const noThrow = await failure(Given('a new lamp').When(Lamp, 'Toggle', 'x').ThenThrows(EventValidationError))
    expect(noThrow.message).to.include('did not throw')
  })

  it('should pass an unexpected error through as it is', async () => {
    const err = await Promise.resolve(Given('a new lamp').When(Lamp, 'Break', 42).Then([])).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(EventValidationError)
  })

  it('should refuse Given events that the class under test defines differently', async () => {
    const err = await Promise.resolve(Given('a bad history', [{ name: 'switched', data: { on: 'yes' } }]).When(Lamp, 'Toggle', 'x')).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(EventValidationError)
  })

  it('should refuse a Given event that the class under test does not define (a typo in the history)', async () => {
    const misspelt: string = 'swiched' // typed as string: the compiler would refuse the literal
    const err = await Promise.resolve(Given('a typo', [{ name: misspelt, data: {} }]).When(Lamp, 'Toggle', 'x')).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(UnknownEventError)
    expect((err as UnknownEventError).message).to.include('"swiched"').and.include('Lamp defines no event of that name').and.include('actor: ThatClass')
  })

  it('should take events another class fired on the same stream when they name that class', async () => {
    const NoteEvents = defineEvents({ noted: z.object({ text: z.string() }) })
    class Note extends Actor<typeof NoteEvents> {
      static events = NoteEvents
    }
    const result = await Given('a note on the lamp', [{ name: 'noted', data: { text: 'dusty' }, actor: Note }, { name: 'switched', data: { on: true, by: 'ann', at: 0 } }])
      .When(Lamp, 'Toggle', 'bob')
      .AndState({ on: false, switches: 2 })
    const stored = []
    for await (const e of result.container.store.readStream('test-id')) stored.push([e.name, e.meta.actorType])
    expect(stored).to.deep.equal([['noted', 'Note'], ['switched', 'Given'], ['switched', 'Lamp']])
    const invalid = await Promise.resolve(Given('a bad note', [{ name: 'noted', data: { text: 3 }, actor: Note }]).When(Lamp, 'Toggle', 'x')).catch((e: unknown) => e)
    expect(invalid, 'checked against the class that fired it').to.be.instanceOf(EventValidationError)
  })

  it('should fail a scenario whose class has a misspelt handler', async () => {
    class Lamp2 extends Lamp {
      swiched() {}
    }
    const err = await failure(Given('a new lamp').When(Lamp2, 'Toggle', 'x'))
    expect(err.message).to.include('Lamp2 has a method "swiched", one edit away from its event "switched"')
  })

  it('should put Given events on the stream the scenario names', async () => {
    await Given('a lamp in the hall', [{ name: 'switched', data: { on: true, by: 'ann', at: 0 } }], { id: 'hall' })
      .When(Lamp, 'Toggle', 'bob')
      .Then([{ name: 'switched', streamId: 'hall', data: { on: false, by: 'bob', at: '{number}' } }])
  })
})

describe('Given/When/Then with live actors', () => {
  const BellEvents = defineEvents({ rung: z.object({ times: z.number() }) })
  class Bell extends LiveActor<typeof BellEvents, { rung: number }> {
    static events = BellEvents
    constructor(id: string, c: Container) {
      super(id, c)
      this._state.rung = 0
    }
    Ring(times: number) {
      return this.Fire('rung', { times })
    }
    rung(d: { times: number }) {
      this._state.rung += d.times
    }
  }

  it('should stop a LiveActor once the scenario is over, so the test process can exit', async () => {
    const result = await Given('a bell rung once', [{ name: 'rung', data: { times: 1 } }])
      .When(Bell, 'Ring', 2)
      .Then([{ name: 'rung', data: { times: 2 } }])
      .AndState({ rung: 3 })
    expect(result.actor.Following).to.equal(false)
  })
})
