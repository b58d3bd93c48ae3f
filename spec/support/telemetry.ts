import { metrics, trace } from '@opentelemetry/api'
import { MeterProvider, MetricReader, type DataPoint, type HistogramMetricData, type MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'

/** A metric reader collected on demand. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The OpenTelemetry SDK registered globally with in-memory exporters, as an application would. */
export interface TestSdk {
  readonly spans: InMemorySpanExporter
  /** Every metric data point of this process now, by metric name. */
  metrics(): Promise<Map<string, MetricData>>
  /** Unregisters the SDK (the framework then records nothing again). */
  shutdown(): Promise<void>
}

export function registerSdk(): TestSdk {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  trace.setGlobalTracerProvider(tracerProvider)
  const reader = new OnDemandReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(meterProvider)
  return {
    spans,
    async metrics() {
      const { resourceMetrics } = await reader.collect()
      const byName = new Map<string, MetricData>()
      for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric)
      return byName
    },
    async shutdown() {
      trace.disable()
      metrics.disable()
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** A span as the specs compare it (and as a worker prints it): ids, parent, name, attributes. */
export interface SpanLine {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly kind: number
  readonly attributes: Record<string, unknown>
  readonly links: ReadonlyArray<{ traceId: string; spanId: string }>
  readonly status: number
}

export function spanLine(span: ReadableSpan): SpanLine {
  const context = span.spanContext()
  return {
    name: span.name,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    kind: span.kind,
    attributes: { ...span.attributes },
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    status: span.status.code,
  }
}

/** The sum of a counter's points, or of a histogram's counts, whose attributes include `where`. */
export function total(metric: MetricData | undefined, where: Record<string, unknown> = {}): number {
  if (!metric) return 0
  let sum = 0
  for (const point of metric.dataPoints as Array<DataPoint<unknown>>) {
    if (!Object.entries(where).every(([k, v]) => point.attributes[k] === v)) continue
    const value = point.value
    sum += typeof value === 'number' ? value : (value as HistogramMetricData['dataPoints'][number]['value']).count
  }
  return sum
}
