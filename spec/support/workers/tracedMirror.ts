// Registers the OpenTelemetry SDK, runs a durable Mirror of stream `source`, and prints every
// span it finishes as `span <json>`.
import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { createContainer } from 'omniscient-actors'
import { openStore } from '../openStore.js'
import { Mirror } from '../Mirror.js'
import { spanLine } from '../telemetry.js'

const printer: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    for (const span of spans) console.log(`span ${JSON.stringify(spanLine(span))}`)
    done({ code: 0 })
  },
  shutdown: async () => {},
}
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printer)] }))

const [file] = process.argv.slice(2) as [string]
const container = createContainer({ store: openStore(file) })
await new Mirror('mirror', container, 'source').Load()
console.log('ready')
