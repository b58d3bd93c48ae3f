// Compile-time guarantees, checked by `tsc --noEmit` (part of npm test): the line after each
// expect-error directive must fail to compile, or tsc reports the directive as unused.
import { expect } from 'chai'
import { z } from 'zod'
import { Actor, createContainer, defineEvents, type Container } from 'omniscient-actors'
import { Given } from 'omniscient-actors/testing'

const DoorEvents = defineEvents({
  opened: z.object({ by: z.string(), angle: z.number().default(90) }),
  closed: z.undefined(),
})

class Door extends Actor<typeof DoorEvents> {
  static events = DoorEvents
  constructor(id: string, c: Container) {
    super(id, c)
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
  })
})
