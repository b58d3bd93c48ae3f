/**
 * The `@opentelemetry/api` module as `useOpenTelemetry` takes it: what
 * `import * as api from '@opentelemetry/api'` gives. Declared here, structurally, so that the
 * package's types never require `@opentelemetry/api` (an optional peer dependency).
 */
export interface OpenTelemetryApi {
  readonly trace: object
  readonly context: object
  readonly metrics: object
  readonly ProxyTracerProvider: abstract new () => object
  readonly createNoopMeter: () => object
}
