// Compile-time guarantees, checked by `tsc --noEmit` (part of npm test): the line after each
// expect-error directive must fail to compile, or tsc reports the directive as unused.
import { expect } from 'chai'
import { z } from 'zod'
import { Actor, createContainer, defineEvents, type Container, type EventData, type Handlers } from 'omniscient-actors'
import { Given } from 'omniscient-actors/testing'

const DoorEvents = defineEvents({
  opened: z.object({ by: z.string(), angle: z.number().default(90) }),
  closed: z.undefined(),
})

type E = typeof DoorEvents

class Door extends Actor<E, { open: boolean; angle: number; log: string[] }> implements Handlers<E> {
  static events = DoorEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.open = false
    this._state.log = []
  }
  opened(data: EventData<E, 'opened'>) {
    this._state.open = true
    this._state.angle = data.angle
  }
  closed() {
    this._state.open = false
  }
  async Open(by: string) {
    const envelope = await this.Fire('opened', { by })
    const angle: number = envelope.data.angle
    // @ts-expect-error the stored data has no field `who`
    void envelope.data.who
    return angle
  }
  async Misuse() {
    // @ts-expect-error misspelt event name
    await this.Fire('opend', { by: 'x' })
    // @ts-expect-error wrong type of field
    await this.Fire('opened', { by: 1 })
    // @ts-expect-error missing required field
    await this.Fire('opened', {})
    // @ts-expect-error data required when the schema needs it
    await this.Fire('opened')
    await this.Fire('closed')
  }
}

// Handlers<E> makes the compiler check every handler's name and data against static events.
// @ts-expect-error a misspelt handler: the class lacks `closed` (and `closd` would never be called)
class MisspeltDoor extends Actor<E> implements Handlers<E> {
  static events = DoorEvents
  opened(_data: EventData<E, 'opened'>) {}
  closd() {}
}

class WronglyTypedDoor extends Actor<E> implements Handlers<E> {
  static events = DoorEvents
  // @ts-expect-error the handler's data is not the event's (by is a string)
  opened(_data: { by: number }) {}
  closed() {}
}

class UnknownFieldDoor extends Actor<E> implements Handlers<E> {
  static events = DoorEvents
  // @ts-expect-error the handler reads a field the event does not have
  opened(_data: { by: string; who: string }) {}
  closed() {}
}

// Events that change no state are named as such, and then need no handler.
class QuietDoor extends Actor<E> implements Handlers<E, 'closed'> {
  static events = DoorEvents
  opened(_data: EventData<E, 'opened'>) {}
}

describe('types', () => {
  it('should compile what is right and refuse what is wrong (see tsc)', async () => {
    const door = await new Door('d', createContainer()).Load()
    expect(await door.Open('ann')).to.equal(90)
    await Given('a door').When(Door, 'Open', 'ann')
    // @ts-expect-error no such method
    void Given('a door').When(Door, 'Opn', 'ann')
    // @ts-expect-error wrong argument type for the method
    void Given('a door').When(Door, 'Open', 42)
    createContainer().bus.on(DoorEvents, 'opened', (e) => {
      const by: string = e.data.by
      void by
    })
    // @ts-expect-error no such event in the catalog
    createContainer().bus.on(DoorEvents, 'slammed', () => {})
    void [MisspeltDoor, WronglyTypedDoor, UnknownFieldDoor, QuietDoor]
  })

  it('should check Given and Then event names and AndState keys against the class under test', async () => {
    await Given('a door opened', [{ name: 'opened', data: { by: 'ann' } }])
      .When(Door, 'Open', 'bob')
      .Then([{ name: 'opened', data: { by: 'bob', angle: 90 } }])
      .AndState({ open: true, angle: '{number}' })
    // @ts-expect-error misspelt event name in Given's history
    void Given('a door opened', [{ name: 'opend', data: { by: 'ann' } }]).When(Door, 'Open', 'bob')
    // Events of other streams belong to other classes: their names are not checked here.
    void Given('a door and a wall', [{ name: 'built', streamId: 'wall' }]).When(Door, 'Open', 'bob')
    // @ts-expect-error misspelt event name in Then
    void Given('a door').When(Door, 'Open', 'bob').Then([{ name: 'opend' }])
    // @ts-expect-error a key the state does not have
    void Given('a door').When(Door, 'Open', 'bob').AndState({ opn: true })
    // @ts-expect-error a value of the wrong type for the key
    void Given('a door').When(Door, 'Open', 'bob').AndState({ open: 'yes' })
  })
})
