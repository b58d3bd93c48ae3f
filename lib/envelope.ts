/** Correlation and provenance of an event, stored beside its data. */
export interface EventMeta {
  /** The id shared by every event of one business transaction. */
  readonly correlationId?: string
  /** The id of the event (or command) that caused this one. */
  readonly causationId?: string
  /** The actor class that fired it. */
  readonly actorType?: string
  /** The leader term it was written under (OneActor, TickActor). */
  readonly term?: number
  /**
   * The W3C `traceparent` of the span that fired it (see docs/telemetry.md): stored only while
   * an OpenTelemetry SDK is registered, so that what handles the event continues the trace.
   */
  readonly traceparent?: string
}

/**
 * An event as it is handed to `append`: everything but what the store assigns
 * (`streamId`, `version`, `position`).
 */
export interface NewEvent<TName extends string = string, TData = unknown> {
  readonly id: string
  readonly name: TName
  readonly data: TData
  readonly schemaVersion: number
  /** Milliseconds since the epoch, from the container's clock. */
  readonly at: number
  readonly meta: EventMeta
}

/**
 * An event as it is stored: the domain event plus its place in the stream (`version`) and in
 * the store (`position`).
 *
 * @example
 * for await (const e of store.readStream('user-1')) console.log(e.version, e.name, e.data)
 */
export interface EventEnvelope<TName extends string = string, TData = unknown> extends NewEvent<TName, TData> {
  readonly streamId: string
  /** 1, 2, 3... within the stream. */
  readonly version: number
  /** Commit order within one store: increases, may have gaps. */
  readonly position: number
}

/**
 * What an actor's handler receives as second argument: the envelope without `position`,
 * which an optimistic actor does not know until the store commits.
 */
export type AppliedEvent<TName extends string = string, TData = unknown> = Omit<EventEnvelope<TName, TData>, 'position'> & {
  readonly position?: number
}

/** The shape a user writes in Given(...) and Then(...): a name and its data. */
export interface DomainEvent<TName extends string = string, TData = unknown> {
  readonly name: TName
  readonly data: TData
}

/**
 * The envelope of an event the store has just placed. Built field by field, in the order every
 * adapter reads rows in, so all envelopes share one shape (a spread would not guarantee it).
 */
export function storedEnvelope(event: NewEvent, streamId: string, version: number, position: number): EventEnvelope {
  return {
    id: event.id,
    streamId,
    version,
    position,
    name: event.name,
    data: event.data,
    schemaVersion: event.schemaVersion,
    at: event.at,
    meta: event.meta,
  }
}
