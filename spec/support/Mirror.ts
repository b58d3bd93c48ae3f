import { z } from 'zod'
import { Actor, defineEvents, type Container } from 'omniscient-actors'

export const MirrorEvents = defineEvents({
  mirrored: z.object({ of: z.string() }),
})

/** A durable process manager: copies every event of stream `source` onto its own stream. */
export class Mirror extends Actor<typeof MirrorEvents, { copies: number }> {
  static events = MirrorEvents
  constructor(id: string, c: Container, source: string) {
    super(id, c)
    this._state.copies = 0
    this.ListenTo(source, (e) => this.Fire('mirrored', { of: e.id }, { causedBy: e }).then(() => undefined), { durable: `${id}<-${source}` })
  }
  mirrored() {
    this._state.copies++
  }
}
