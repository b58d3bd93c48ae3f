import type * as Otel from '@opentelemetry/api'
import type { EventEnvelope } from '../envelope.js'
import type { StorageAdapter } from '../store/StorageAdapter.js'
import * as A from './attributes.js'
import { activeMeter } from './otel.js'
import { storeSystem } from './storeSystem.js'

/** The gauges read at each collection from whatever registered itself (see `observeGauges`). */
export type GaugeName =
  | 'omniscient.read.lag.positions'
  | 'omniscient.read.lag.seconds'
  | 'omniscient.read.stuck'
  | 'omniscient.lease.leading'
  | 'omniscient.actors.resident'
  | 'omniscient.sync.followers'
  | 'omniscient.sync.queued'

const GAUGES: Record<GaugeName, { unit: string; description: string }> = {
  'omniscient.read.lag.positions': { unit: '{position}', description: 'How far a running read model or projection is behind the head of the log' },
  'omniscient.read.lag.seconds': { unit: 's', description: 'Age of the newest event a running read model or projection has not handled yet (0 when caught up)' },
  'omniscient.read.stuck': { unit: '1', description: '1 while a read model or projection retries a failing batch, else 0' },
  'omniscient.lease.leading': { unit: '{lease}', description: 'Leases this process holds: OneActor leaders and read-side runners' },
  'omniscient.actors.resident': { unit: '{actor}', description: 'Actors loaded in a registry' },
  'omniscient.sync.followers': { unit: '{connection}', description: 'Devices following the sync server live' },
  'omniscient.sync.queued': { unit: '{event}', description: 'Events a device stored locally and has not had accepted by the server yet' },
}

/** Reports gauge values of `target` at collection time. */
export type GaugeSource<T extends object> = (target: T, observe: (gauge: GaugeName, value: number, attributes?: Otel.Attributes) => void) => void

// Held weakly: a registry or runner nobody closed must not be kept alive by its gauges.
const sources = new Set<{ readonly target: WeakRef<object>; readonly read: GaugeSource<object> }>()

/**
 * Registers `target` as a source of gauge values, read at each collection while it lives;
 * returns the function that removes it. Costs nothing until a meter provider collects.
 */
export function observeGauges<T extends object>(target: T, read: GaugeSource<T>): () => void {
  const source = { target: new WeakRef<object>(target), read: read as GaugeSource<object> }
  sources.add(source)
  return () => void sources.delete(source)
}

// The leases this process leads now, by owner and name, with their kind.
const leading = new Map<string, string>()
observeGauges(leading, (held, observe) => {
  const byKind = new Map<string, number>()
  for (const kind of held.values()) byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
  for (const kind of new Set(['one', 'read', ...byKind.keys()])) observe('omniscient.lease.leading', byKind.get(kind) ?? 0, { [LEASE_KIND]: kind })
})

const LEASE_KIND = 'omniscient.lease.kind'
// The framework's own lease names start with their kind (one/Stock/sku-1); a read model's or
// projection's lease is its name.
const KINDS = new Set(['one', 'shard', 'live'])

/** `one` (a OneActor's lease), `shard`, `live`, or `read` (a read model's or projection's). */
function leaseKind(name: string): string {
  const slash = name.indexOf('/')
  const prefix = slash > 0 ? name.slice(0, slash) : ''
  return KINDS.has(prefix) ? prefix : 'read'
}

interface Instruments {
  readonly appendDuration: Otel.Histogram
  readonly groupSize: Otel.Histogram
  readonly appended: Otel.Counter
  readonly deliveryLag: Otel.Histogram
  readonly leaseAcquired: Otel.Counter
  readonly leaseLost: Otel.Counter
  readonly passivations: Otel.Counter
  readonly syncCatchUp: Otel.Counter
}

let made: { meter: Otel.Meter; instruments: Instruments } | undefined

/** The instruments of the registered meter provider, made once per provider; undefined without one. */
function instruments(): Instruments | undefined {
  const meter = activeMeter()
  if (meter === undefined) return undefined
  if (made?.meter === meter) return made.instruments
  const instruments: Instruments = {
    appendDuration: meter.createHistogram('omniscient.append.duration', { unit: 's', description: 'Time from an actor\'s append call to its durable answer' }),
    groupSize: meter.createHistogram('omniscient.append.group_size', { unit: '{append}', description: 'Appends committed together in one transaction (group commit)' }),
    appended: meter.createCounter('omniscient.events.appended', { unit: '{event}', description: 'Events stored by actors and projections' }),
    deliveryLag: meter.createHistogram('omniscient.delivery.lag', { unit: 's', description: 'Time from an event\'s commit to its handling by a listener' }),
    leaseAcquired: meter.createCounter('omniscient.lease.acquisitions', { unit: '{lease}', description: 'Leases this process took (became leader or runner)' }),
    leaseLost: meter.createCounter('omniscient.lease.losses', { unit: '{lease}', description: 'Leases this process lost or gave up' }),
    passivations: meter.createCounter('omniscient.actors.passivations', { unit: '{actor}', description: 'Idle actors a registry stopped and dropped' }),
    syncCatchUp: meter.createCounter('omniscient.sync.catchup.events', { unit: '{event}', description: 'Events read in catch-up: sent by the sync server, received by a device' }),
  }
  const gauges = new Map<GaugeName, Otel.ObservableGauge>()
  for (const [name, { unit, description }] of Object.entries(GAUGES) as Array<[GaugeName, { unit: string; description: string }]>) {
    gauges.set(name, meter.createObservableGauge(name, { unit, description }))
  }
  meter.addBatchObservableCallback((result) => {
    const observe = (gauge: GaugeName, value: number, attributes?: Otel.Attributes) => result.observe(gauges.get(gauge)!, value, attributes)
    for (const source of sources) {
      const target = source.target.deref()
      if (target === undefined) sources.delete(source)
      else source.read(target, observe)
    }
  }, [...gauges.values()])
  made = { meter, instruments }
  return instruments
}

const clock: { now(): number } = globalThis.performance ?? Date

/**
 * Starts measuring an actor's (or projection's) append: the returned function records its
 * duration and, when stored, its events. Undefined without a meter provider.
 */
export function appendMeasured(store: StorageAdapter, actorType: string): ((events: number, stored: boolean) => void) | undefined {
  const m = instruments()
  if (m === undefined) return undefined
  const start = clock.now()
  const attributes = { [A.DB_SYSTEM]: storeSystem(store), [A.ACTOR_TYPE]: actorType }
  return (events, stored) => {
    m.appendDuration.record((clock.now() - start) / 1000, attributes)
    if (stored && events > 0) m.appended.add(events, attributes)
  }
}

/** Records the size of a group commit of `system` (sqlite, postgresql...). */
export function groupMeasured(system: string, size: number): void {
  instruments()?.groupSize.record(size, { [A.DB_SYSTEM]: system })
}

/** Records how long after its commit a listener got an event. */
export function deliveryMeasured(event: EventEnvelope, consumer: string): void {
  instruments()?.deliveryLag.record(Math.max(0, Date.now() - event.at) / 1000, { [A.MESSAGING_CONSUMER_GROUP]: consumer })
}

/**
 * Counts a lease this process took (`gained`) or stopped leading, and keeps the count of
 * those it leads. Told twice of the same change (by a keeper and by its user), it counts once.
 */
export function leaseMeasured(name: string, owner: string, gained: boolean, reason?: string): void {
  const kind = leaseKind(name)
  const key = `${owner}\n${name}`
  if (gained === leading.has(key)) return
  if (gained) leading.set(key, kind)
  else leading.delete(key)
  const m = instruments()
  if (m === undefined) return
  if (gained) m.leaseAcquired.add(1, { [LEASE_KIND]: kind })
  else m.leaseLost.add(1, { [LEASE_KIND]: kind, 'omniscient.lease.reason': reason ?? 'lost' })
}

/** Counts actors passivated by a registry. */
export function passivationsMeasured(count: number): void {
  if (count > 0) instruments()?.passivations.add(count)
}

/** Counts events read in a sync catch-up; `side`: server or device. */
export function catchUpMeasured(side: 'server' | 'device', events: number): void {
  if (events > 0) instruments()?.syncCatchUp.add(events, { 'omniscient.sync.side': side })
}
