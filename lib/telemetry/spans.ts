import type * as Otel from '@opentelemetry/api'
import type { EventEnvelope, NewEvent } from '../envelope.js'
import type { AppendOptions, AppendResult, StorageAdapter } from '../store/StorageAdapter.js'
import * as A from './attributes.js'
import { appendMeasured, deliveryMeasured } from './metrics.js'
import { activeTracer, otelApi } from './otel.js'
import { storeSystem } from './storeSystem.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

// Every function here first asks activeTracer() (or looks at `open`) and returns at once when
// nothing is registered: these are called on the hot paths (Fire, append, live delivery).

type Api = NonNullable<ReturnType<typeof otelApi>>

interface Open {
  readonly tracer: Otel.Tracer
  readonly span: Otel.Span
  readonly context: Otel.Context
  attempts: number
}

// The Fire (or leader commit) spans still open, by event id: their appends are their children.
const open = new Map<string, Open>()
// The span that handled an event (a reaction): a Fire it causes continues from there even
// when no context manager carries the active span across the handler's awaits.
const handledBy = new WeakMap<object, Otel.SpanContext>()
// The size of the group an append was committed in, by its result (see noteGroupSize).
const groupSizes = new WeakMap<object, number>()

/** A span run around a promise: ended with its outcome. */
function around<T>(a: Api, context: Otel.Context, span: Otel.Span, run: () => Promise<T>, done?: (result: T | undefined) => void): Promise<T> {
  let running: Promise<T>
  try {
    running = a.context.with(context, run)
  } catch (err) {
    done?.(undefined)
    fail(a, span, err)
    throw err
  }
  return running.then(
    (result) => {
      done?.(result)
      span.end()
      return result
    },
    (err: unknown) => {
      done?.(undefined)
      fail(a, span, err)
      throw err
    },
  )
}

function fail(a: Api, span: Otel.Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err))
  span.setStatus({ code: a.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) })
  span.end()
}

/** The context a producer span starts in: the active span, else the span that handled the cause, else the cause's traceparent. */
function producerParent(a: Api, cause: EventEnvelope | undefined): Otel.Context {
  const active = a.context.active()
  if (cause === undefined || a.trace.getSpan(active) !== undefined) return active
  const parent = handledBy.get(cause) ?? parseTraceparent(cause.meta.traceparent)
  return parent ? a.trace.setSpanContext(active, parent) : active
}

/**
 * The context a consumer span starts in: the stored event's traceparent, or a new trace. The
 * active context is never used: the read that delivered the event may have been started by
 * any caller's code.
 */
function consumerParent(a: Api, event: EventEnvelope): Otel.Context {
  const parent = parseTraceparent(event.meta.traceparent)
  const root = a.trace.deleteSpan(a.context.active())
  return parent ? a.trace.setSpanContext(root, parent) : root
}

function eventAttributes(event: NewEvent | EventEnvelope, streamId: string): Otel.Attributes {
  const attributes: Otel.Attributes = {
    [A.MESSAGING_SYSTEM]: A.SYSTEM,
    [A.MESSAGING_DESTINATION]: streamId,
    [A.MESSAGING_MESSAGE_ID]: event.id,
    [A.EVENT_NAME]: event.name,
  }
  if (event.meta.correlationId !== undefined) attributes[A.MESSAGING_CONVERSATION_ID] = event.meta.correlationId
  if (event.meta.causationId !== undefined) attributes[A.CAUSATION_ID] = event.meta.causationId
  return attributes
}

/** A Fire being traced: the event to store (its meta carries the span's traceparent), and how to run it. */
export interface TracedFire {
  readonly event: NewEvent
  run(fire: (event: NewEvent) => Promise<EventEnvelope>): Promise<EventEnvelope>
}

/**
 * Starts the span of a Fire (`fire <event name>`, a producer span), a child of the caller's
 * active span or of what handled `causedBy`. Undefined when nothing is registered.
 */
export function traceFire(actorType: string, streamId: string, event: NewEvent, causedBy: EventEnvelope | undefined, role?: string): TracedFire | undefined {
  const tracer = activeTracer()
  if (tracer === undefined) return undefined
  const a = otelApi()!
  const attributes = eventAttributes(event, streamId)
  attributes[A.MESSAGING_OPERATION_TYPE] = 'send'
  attributes[A.MESSAGING_OPERATION_NAME] = 'fire'
  attributes[A.ACTOR_TYPE] = actorType
  if (role !== undefined) attributes[A.FIRE_ROLE] = role
  const parent = producerParent(a, causedBy)
  const span = tracer.startSpan(`fire ${event.name}`, { kind: a.SpanKind.PRODUCER, attributes }, parent)
  const record: Open = { tracer, span, context: a.trace.setSpan(parent, span), attempts: 0 }
  const traced: NewEvent = { ...event, meta: { ...event.meta, traceparent: formatTraceparent(span.spanContext()) } }
  return {
    event: traced,
    run(fire) {
      open.set(event.id, record)
      return around(a, record.context, span, () => fire(traced), (stored) => {
        if (open.get(event.id) === record) open.delete(event.id)
        span.setAttribute(A.FIRE_ATTEMPTS, record.attempts)
        if (stored) span.setAttributes({ [A.EVENT_VERSION]: stored.version, [A.EVENT_POSITION]: stored.position })
      })
    },
  }
}

/**
 * The leader's side of a OneActor proposal: `lead <event name>`, a child of the span that
 * handles the proposal (or of the proposer's Fire), with the commit's append inside it.
 */
export function traceLeaderCommit(actorType: string, streamId: string, event: NewEvent, proposal: EventEnvelope, commit: () => Promise<EventEnvelope>): Promise<EventEnvelope> {
  const tracer = activeTracer()
  if (tracer === undefined) return commit()
  const a = otelApi()!
  const attributes = eventAttributes(event, streamId)
  attributes[A.MESSAGING_OPERATION_TYPE] = 'process'
  attributes[A.MESSAGING_OPERATION_NAME] = 'lead'
  attributes[A.ACTOR_TYPE] = actorType
  const parent = producerParent(a, proposal)
  const span = tracer.startSpan(`lead ${event.name}`, { kind: a.SpanKind.CONSUMER, attributes }, parent)
  const record: Open = { tracer, span, context: a.trace.setSpan(parent, span), attempts: 0 }
  open.set(event.id, record)
  return around(a, record.context, span, commit, (stored) => {
    if (open.get(event.id) === record) open.delete(event.id)
    if (stored) span.setAttributes({ [A.EVENT_VERSION]: stored.version, [A.EVENT_POSITION]: stored.position })
  })
}

/**
 * Watches an actor's append of `event` (already started: `appending`): an `append` span inside
 * the Fire's span, with the attempt, the lease term and the size of the group it was committed
 * in; and the append metrics. Returns `appending` itself when nothing is registered.
 */
export function traceAppend(store: StorageAdapter, streamId: string, event: NewEvent, options: AppendOptions, appending: Promise<AppendResult>, actorType: string): Promise<AppendResult> {
  const measured = appendMeasured(store, actorType)
  const record = open.size === 0 ? undefined : open.get(event.id)
  if (record === undefined && measured === undefined) return appending
  let span: Otel.Span | undefined
  if (record) {
    record.attempts++
    const attributes: Otel.Attributes = {
      [A.DB_SYSTEM]: storeSystem(store),
      [A.DB_OPERATION]: 'append',
      [A.DB_BATCH_SIZE]: 1,
      [A.MESSAGING_DESTINATION]: streamId,
      [A.APPEND_ATTEMPT]: record.attempts,
      [A.EXPECTED_VERSION]: String(options.expectedVersion),
    }
    if (options.lease) {
      attributes[A.LEASE_TERM] = options.lease.term
      attributes[A.LEASE_NAME] = options.lease.name
    }
    span = record.tracer.startSpan('append', { kind: otelApi()!.SpanKind.CLIENT, attributes }, record.context)
  }
  return appending.then(
    (result) => {
      measured?.(result.events.length, !result.alreadyStored)
      if (span) {
        const group = groupSizes.get(result)
        if (group !== undefined) span.setAttribute(A.APPEND_GROUP_SIZE, group)
        span.end()
      }
      return result
    },
    (err: unknown) => {
      measured?.(0, false)
      if (span) fail(otelApi()!, span, err)
      throw err
    },
  )
}

/** Notes the size of the group an append's result was committed in (only while a Fire span is open). */
export function noteGroupSize(result: object, size: number): void {
  if (open.size !== 0) groupSizes.set(result, size)
}

/**
 * Runs a listener's handler on `event` inside a `process <event name>` consumer span, a child
 * of the event's stored traceparent. Undefined (and the handler not called) when nothing is
 * registered.
 */
export function traceReaction(event: EventEnvelope, consumer: string, handle: (event: EventEnvelope) => void | Promise<void>): Promise<void> | undefined {
  deliveryMeasured(event, consumer)
  const tracer = activeTracer()
  if (tracer === undefined) return undefined
  const now = Date.now()
  const a = otelApi()!
  const attributes = eventAttributes(event, event.streamId)
  attributes[A.MESSAGING_OPERATION_TYPE] = 'process'
  attributes[A.MESSAGING_OPERATION_NAME] = 'react'
  attributes[A.MESSAGING_CONSUMER_GROUP] = consumer
  attributes[A.EVENT_VERSION] = event.version
  attributes[A.EVENT_POSITION] = event.position
  attributes[A.DELIVERY_LAG] = Math.max(0, now - event.at)
  const parent = consumerParent(a, event)
  const span = tracer.startSpan(`process ${event.name}`, { kind: a.SpanKind.CONSUMER, attributes }, parent)
  handledBy.set(event, span.spanContext())
  return around(a, a.trace.setSpan(parent, span), span, async () => {
    await handle(event)
  })
}

/**
 * A read model's or projection's batch: `<kind> <name>`, a consumer span. A batch of one event
 * continues that event's trace; a larger one starts its own and links every event's.
 */
export function traceBatch<T>(kind: string, name: string, events: readonly EventEnvelope[], term: number, run: () => Promise<T>): Promise<T> {
  const tracer = activeTracer()
  if (tracer === undefined) return run()
  const a = otelApi()!
  const attributes: Otel.Attributes = {
    [A.MESSAGING_SYSTEM]: A.SYSTEM,
    [A.MESSAGING_OPERATION_TYPE]: 'process',
    [A.MESSAGING_OPERATION_NAME]: kind,
    [A.MESSAGING_CONSUMER_GROUP]: name,
    [A.MESSAGING_BATCH_COUNT]: events.length,
    [A.READ_KIND]: kind,
    [A.READ_NAME]: name,
  }
  if (term > 0) attributes[A.LEASE_TERM] = term
  if (events.length > 0) attributes[A.READ_POSITION] = events.at(-1)!.position
  const only = events.length === 1 ? events[0]! : undefined
  const links: Otel.Link[] = []
  if (!only) {
    for (const e of events) {
      const context = parseTraceparent(e.meta.traceparent)
      if (context) links.push({ context })
    }
  }
  const parent = only ? consumerParent(a, only) : a.trace.deleteSpan(a.context.active())
  const span = tracer.startSpan(`${kind} ${name}`, { kind: a.SpanKind.CONSUMER, attributes, links }, parent)
  return around(a, a.trace.setSpan(parent, span), span, run)
}

/** The traceparent a projection stores in a derived event: the source event's (its trace goes on). */
export function derivedTraceparent(source: EventEnvelope): { traceparent?: string } {
  const traceparent = source.meta.traceparent
  return traceparent === undefined ? {} : { traceparent }
}

/**
 * Starts the span of an actor's Load (its rebuild): `load <actor type>`, with how many events
 * were replayed and the snapshot version it started from (0: none).
 */
export function traceLoad(actorType: string, streamId: string, rebuild: () => Promise<{ replayed: number; fromSnapshot: number }>): Promise<{ replayed: number; fromSnapshot: number }> {
  const tracer = activeTracer()
  if (tracer === undefined) return rebuild()
  const a = otelApi()!
  const span = tracer.startSpan(`load ${actorType}`, { kind: a.SpanKind.INTERNAL, attributes: { [A.ACTOR_TYPE]: actorType, [A.MESSAGING_DESTINATION]: streamId } })
  return around(a, a.trace.setSpan(a.context.active(), span), span, rebuild, (stats) => {
    if (stats) span.setAttributes({ [A.LOAD_REPLAYED]: stats.replayed, [A.LOAD_SNAPSHOT]: stats.fromSnapshot })
  })
}

/** The W3C traceparent that carries a client span to the server. */
export function traceparentOf(span: Otel.Span): string {
  return formatTraceparent(span.spanContext())
}

/** A sync path's route, for span names: its first segment (`/events`, `/streams`...). */
export function syncRoute(path: string): string {
  const end = path.indexOf('/', 1)
  return end < 0 ? path : path.slice(0, end)
}

/** A sync request on the device's side: `<METHOD> <route>`, a client span; the caller adds its headers. */
export function startClientSpan(method: string, route: string, url: string): Otel.Span | undefined {
  const tracer = activeTracer()
  if (tracer === undefined) return undefined
  const a = otelApi()!
  return tracer.startSpan(`${method} ${route}`, {
    kind: a.SpanKind.CLIENT,
    attributes: { [A.HTTP_METHOD]: method, [A.URL_FULL]: url, [A.SYNC_ROUTE]: route },
  })
}

/** Ends a client or server span with the HTTP status (an error from 500 on, or when `err` is set). */
export function endHttpSpan(span: Otel.Span | undefined, status: number | undefined, err?: unknown): void {
  if (!span) return
  if (status !== undefined) span.setAttribute(A.HTTP_STATUS, status)
  if (err !== undefined || (status !== undefined && status >= 500)) fail(otelApi()!, span, err ?? new Error(`HTTP ${status}`))
  else span.end()
}

/** A sync request on the server's side: `<METHOD> <route>`, a server span continuing the request's traceparent. */
export function startServerSpan(method: string, route: string, traceparent: unknown): Otel.Span | undefined {
  const tracer = activeTracer()
  if (tracer === undefined) return undefined
  const a = otelApi()!
  const parent = parseTraceparent(traceparent)
  const root = a.trace.deleteSpan(a.context.active())
  return tracer.startSpan(`${method} ${route}`, { kind: a.SpanKind.SERVER, attributes: { [A.HTTP_METHOD]: method, [A.HTTP_ROUTE]: route } }, parent ? a.trace.setSpanContext(root, parent) : root)
}
