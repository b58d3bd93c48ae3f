import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { spanFileExporter } from './spanFile.js'

/**
 * The OpenTelemetry SDK of one process of the example: spans go to `file` as they end. The
 * Node provider's register() also installs the AsyncLocalStorage context manager and the W3C
 * propagator, so the active span follows awaits and crosses HTTP. omniscient-actors needs no
 * more: it finds @opentelemetry/api by itself and sends its spans to this provider.
 */
export function startTracing(file: string, service: string): NodeTracerProvider {
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanFileExporter(file, service))] })
  provider.register()
  return provider
}
