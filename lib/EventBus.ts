import { EventEmitter } from 'eventemitter3'
import type { EventEnvelope } from './envelope.js'
import type { AnyEventCatalog, EventData, EventName } from './events.js'

/** A bus listener. It may be async; a rejection is reported like a throw. */
export type BusListener<E extends EventEnvelope = EventEnvelope> = (event: E) => void | Promise<void>

/** Stops a listener. */
export type Unsubscribe = () => void

type Channels = Record<string, [event: EventEnvelope]>

/**
 * The in-process bus: every event this process commits or receives is published once, by
 * name, by stream, and to `subscribeAll`. A listener that throws is reported to `onError`
 * and never stops the publisher or the other listeners.
 *
 * @example
 * container.bus.on(UserEvents, 'logged_in', (e) => console.log(e.data.token))
 * container.bus.subscribeAll((e) => recorder.push(e))
 */
export class EventBus {
  private readonly emitter = new EventEmitter<Channels>()
  // With no listener at all (a batch job, a benchmark), publishing skips building channel names.
  private listenerCount = 0

  constructor(private readonly onError: (err: unknown, event: EventEnvelope) => void) {}

  /** Listens to one event name across all streams, typed from its definition. */
  on<C extends AnyEventCatalog, K extends EventName<C>>(
    catalog: C,
    name: K,
    listener: BusListener<EventEnvelope<K, EventData<C, K>>>,
  ): Unsubscribe
  /** Listens to one event name across all streams. */
  on(name: string, listener: BusListener): Unsubscribe
  on(a: AnyEventCatalog | string, b: string | BusListener, c?: BusListener<never>): Unsubscribe {
    const [name, listener] = typeof a === 'string' ? [a, b as BusListener] : [b as string, c as BusListener]
    return this.listen(`name:${name}`, listener)
  }

  /** Listens to every event of one stream. */
  onStream(streamId: string, listener: BusListener): Unsubscribe {
    return this.listen(`stream:${streamId}`, listener)
  }

  /** Listens to everything, for recorders and audit trails. */
  subscribeAll(listener: BusListener): Unsubscribe {
    return this.listen('all', listener)
  }

  /** Hands a committed event to its listeners. */
  publish(event: EventEnvelope): void {
    if (this.listenerCount === 0) return
    this.emitter.emit(`name:${event.name}`, event)
    this.emitter.emit(`stream:${event.streamId}`, event)
    this.emitter.emit('all', event)
  }

  private listen(channel: string, listener: BusListener): Unsubscribe {
    const guarded = (event: EventEnvelope): void => {
      try {
        const result = listener(event)
        if (result instanceof Promise) result.catch((err: unknown) => this.onError(err, event))
      } catch (err) {
        this.onError(err, event)
      }
    }
    this.emitter.on(channel, guarded)
    this.listenerCount++
    let listening = true
    return () => {
      if (!listening) return
      listening = false
      this.listenerCount--
      this.emitter.off(channel, guarded)
    }
  }
}
