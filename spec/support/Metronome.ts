import { TickActor, defineEvents, tickEvents, type TickData } from 'omniscient-actors'

export const MetronomeEvents = defineEvents({ ...tickEvents })

/** A TickActor at 100 ms with the default lease; its state is the last tick it applied. */
export class Metronome extends TickActor<typeof MetronomeEvents, { tick: number }> {
  static events = MetronomeEvents
  static actorType = 'Metronome'
  static resolution = 100
  tick(data: TickData) {
    this._state.tick = data.tick
  }
}
