import { appendFileSync, readFileSync } from 'node:fs'
import { SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'

/** A finished span as the example writes it: one JSON line per span, from either process. */
export interface SpanRecord {
  readonly service: string
  readonly name: string
  readonly kind: number
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly links: string[]
  /** Milliseconds since the epoch. */
  readonly start: number
  readonly end: number
  readonly attributes: Record<string, unknown>
  readonly error: boolean
}

const ms = ([s, ns]: [number, number]) => s * 1e3 + ns / 1e6

/** Appends every finished span to `file` as a line of JSON (an in-process exporter, no collector). */
export function spanFileExporter(file: string, service: string): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]) {
      const lines = spans.map((span) => {
        const record: SpanRecord = {
          service,
          name: span.name,
          kind: span.kind,
          traceId: span.spanContext().traceId,
          spanId: span.spanContext().spanId,
          ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
          links: span.links.map((l) => l.context.spanId),
          start: ms(span.startTime),
          end: ms(span.endTime),
          attributes: { ...span.attributes },
          error: span.status.code === SpanStatusCode.ERROR,
        }
        return `${JSON.stringify(record)}\n`
      })
      appendFileSync(file, lines.join(''))
      done({ code: 0 })
    },
    shutdown: async () => {},
  }
}

export function readSpans(file: string): SpanRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as SpanRecord)
}
