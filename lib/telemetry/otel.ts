import type * as Otel from '@opentelemetry/api'
import { installedApi } from './useOpenTelemetry.js'

/** The instrumentation scope of every span and metric of the framework. */
export const SCOPE = 'omniscient-actors'

let api: typeof Otel | undefined
// What the API's tracer provider delegates to while no SDK is registered.
let noopTracerProvider: unknown
let tracerOf: { delegate: unknown; tracer: Otel.Tracer } | undefined
let meterOf: { provider: unknown; meter: Otel.Meter | undefined } | undefined

/** The API module in use (see useOpenTelemetry), its caches reset when it changes. */
function current(): typeof Otel | undefined {
  const module = installedApi() as typeof Otel | undefined
  if (module !== api) {
    api = module
    noopTracerProvider = api ? new api.ProxyTracerProvider().getDelegate() : undefined
    tracerOf = undefined
    meterOf = undefined
  }
  return api
}

/** The API module in use, if any. */
export function otelApi(): typeof Otel | undefined {
  return current()
}

/**
 * The framework's tracer, or undefined when there is no API or no SDK registered: every hook
 * asks this first and does nothing more when it answers undefined (a global read and a compare).
 */
export function activeTracer(): Otel.Tracer | undefined {
  const a = current()
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
  const a = current()
  if (a === undefined) return undefined
  const provider = a.metrics.getMeterProvider()
  if (meterOf?.provider === provider) return meterOf.meter
  const meter = provider.getMeter(SCOPE)
  // Instruments made from the no-op meter stay no-ops: ask again once a provider is registered.
  meterOf = { provider, meter: meter === a.createNoopMeter() ? undefined : meter }
  return meterOf.meter
}
