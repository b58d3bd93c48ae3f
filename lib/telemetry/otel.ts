import type * as Otel from '@opentelemetry/api'
import type { OpenTelemetryApi } from './OpenTelemetryApi.js'

/** The instrumentation scope of every span and metric of the framework. */
export const SCOPE = 'omniscient-actors'

let api: typeof Otel | undefined
// What the API's tracer provider delegates to while no SDK is registered.
let noopTracerProvider: unknown
let tracerOf: { delegate: unknown; tracer: Otel.Tracer } | undefined
let meterOf: { provider: unknown; meter: Otel.Meter | undefined } | undefined

/**
 * Instruments the framework through this `@opentelemetry/api` module; `undefined` turns the
 * instrumentation off. Under Node the package's main entry calls it by itself when
 * `@opentelemetry/api` can be resolved; a browser (or a bundle) calls it once at start-up.
 * Spans and metrics go to whatever SDK is registered with that API; with none registered
 * nothing is recorded and nothing is stored in events' metadata.
 *
 * @example
 * import * as api from '@opentelemetry/api'
 * useOpenTelemetry(api)
 */
export function useOpenTelemetry(module: OpenTelemetryApi | undefined): void {
  api = module as typeof Otel | undefined
  noopTracerProvider = api ? (new api.ProxyTracerProvider()).getDelegate() : undefined
  tracerOf = undefined
  meterOf = undefined
}

/** The API module in use, if any. */
export function otelApi(): typeof Otel | undefined {
  return api
}

/**
 * The framework's tracer, or undefined when there is no API or no SDK registered: every hook
 * asks this first and does nothing more when it answers undefined (a global read and a compare).
 */
export function activeTracer(): Otel.Tracer | undefined {
  const a = api
  if (a === undefined) return undefined
  const provider = a.trace.getTracerProvider()
  let delegate: unknown = provider
  if (provider instanceof a.ProxyTracerProvider) {
    delegate = provider.getDelegate()
    if (delegate === noopTracerProvider) return undefined
  }
  if (tracerOf !== undefined && tracerOf.delegate === delegate) return tracerOf.tracer
  const tracer = provider.getTracer(SCOPE)
  tracerOf = { delegate, tracer }
  return tracer
}

/** The framework's meter, or undefined when there is no API or no meter provider registered. */
export function activeMeter(): Otel.Meter | undefined {
  const a = api
  if (a === undefined) return undefined
  const provider = a.metrics.getMeterProvider()
  if (meterOf?.provider === provider) return meterOf.meter
  const meter = provider.getMeter(SCOPE)
  // Instruments made from the no-op meter stay no-ops: ask again once a provider is registered.
  meterOf = { provider, meter: meter === a.createNoopMeter() ? undefined : meter }
  return meterOf.meter
}
