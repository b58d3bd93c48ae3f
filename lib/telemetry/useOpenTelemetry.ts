import type { OpenTelemetryApi } from './OpenTelemetryApi.js'

// Kept apart from otel.ts, whose declarations name @opentelemetry/api's types: the package's
// public types must compile without that optional package.
let installed: OpenTelemetryApi | undefined

/**
 * Instruments the framework through this `@opentelemetry/api` module; `undefined` turns the
 * instrumentation off. Under Node the package's main entry calls it by itself when
 * `@opentelemetry/api` can be resolved; a browser (or a bundle) calls it once at start-up.
 * Spans and metrics go to whatever SDK is registered with that API; with none registered
 * nothing is recorded and nothing is stored in events' metadata (docs/telemetry.md).
 *
 * @example
 * import * as api from '@opentelemetry/api'
 * useOpenTelemetry(api)
 */
export function useOpenTelemetry(module: OpenTelemetryApi | undefined): void {
  installed = module
}

/** The module `useOpenTelemetry` was given last. */
export function installedApi(): OpenTelemetryApi | undefined {
  return installed
}
