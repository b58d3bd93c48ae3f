// Telemetry, seen end to end: `npm run telemetry`. No collector, no docker.
//
// Two processes share one SQLite file. This one (service "web") serves POST /orders/:id and
// places an order in each request; the other (service "shipper", worker.ts) ships every order
// through a durable listener. Both register the OpenTelemetry SDK with an exporter that appends
// finished spans to a file; this one also serves its metrics for Prometheus on
// http://localhost:9464/metrics. At the end it prints the metrics, prints one request's trace
// (which spans both processes: the event's traceparent carried it through the log) and writes
// it as a timeline page, .data/telemetry/trace.html.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { createContainer, SqliteStore } from 'omniscient-actors'
import { Order } from './Shop.js'
import { readSpans } from './spanFile.js'
import { timelinePage, tree } from './timeline.js'
import { startTracing } from './tracing.js'

const { values } = parseArgs({ options: { dir: { type: 'string', default: './.data/telemetry' }, 'metrics-port': { type: 'string', default: '9464' }, orders: { type: 'string', default: '3' } } })
const dir = values.dir
rmSync(dir, { recursive: true, force: true })
mkdirSync(dir, { recursive: true })
const db = `${dir}/shop.db`
const files = { web: `${dir}/spans-web.ndjson`, shipper: `${dir}/spans-shipper.ndjson` }

const tracing = startTracing(files.web, 'web')
const prometheus = new PrometheusExporter({ port: Number(values['metrics-port']) })
const meterProvider = new MeterProvider({ readers: [prometheus] })
metrics.setGlobalMeterProvider(meterProvider)
const tracer = trace.getTracer('shop-example')
const container = createContainer({ store: new SqliteStore({ file: db }) })

// The HTTP side: a server span continuing the caller's traceparent, the Fire inside it.
const server = createServer((req, res) => {
  const parent = propagation.extract(context.active(), req.headers)
  void tracer.startActiveSpan('POST /orders/:id', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/orders/:id' } }, parent, async (span) => {
    try {
      const id = decodeURIComponent(req.url!.split('/')[2]!)
      const order = await container.actors.get(Order, id)
      await order.Place('book', 1)
      res.writeHead(201).end()
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
      res.writeHead(500).end(String(err))
    } finally {
      span.setAttribute('http.response.status_code', res.statusCode)
      span.end()
    }
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

// The second process, on the same file.
const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url))
const worker = spawn(process.execPath, ['--import', 'tsx', '--conditions=omniscient-source', workerFile, db, files.shipper], { stdio: ['ignore', 'pipe', 'inherit'] })
const shipped: string[] = []
const ready = new Promise<void>((resolve) => {
  let buffered = ''
  worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      if (line === 'ready') resolve()
      else if (line.startsWith('shipped ')) shipped.push(line.slice(8))
    }
  })
})
await ready

// The client side: each order placed in a span of its own, its traceparent sent with the request.
const orders = Number(values.orders)
const traceIds: string[] = []
for (let i = 1; i <= orders; i++) {
  await tracer.startActiveSpan('place order', { kind: SpanKind.CLIENT }, async (span) => {
    traceIds.push(span.spanContext().traceId)
    const headers: Record<string, string> = {}
    propagation.inject(context.active(), headers)
    const response = await fetch(`${base}/orders/order-${i}`, { method: 'POST', headers })
    span.setAttribute('http.response.status_code', response.status)
    span.end()
  })
}
for (const deadline = Date.now() + 30_000; shipped.length < orders; ) {
  if (Date.now() > deadline) throw new Error(`only ${shipped.length} of ${orders} orders shipped`)
  await new Promise((r) => setTimeout(r, 20))
}

const exposition = await (await fetch(`http://localhost:${values['metrics-port']}/metrics`)).text()
console.log(`metrics (Prometheus text, http://localhost:${values['metrics-port']}/metrics), the framework's:\n`)
console.log(exposition.split('\n').filter((l) => l.startsWith('omniscient_') && !l.includes('_bucket{')).join('\n'))

// Both processes' spans are in their files once each has shut its SDK down.
worker.kill('SIGTERM')
await new Promise((resolve) => worker.once('exit', resolve))
server.close()
await container.close()
await tracing.shutdown()
await meterProvider.shutdown()

const all = [...readSpans(files.web), ...readSpans(files.shipper)]
// The last order's: the first pays for the connection and the code's first run.
const traceId = traceIds.at(-1)!
const spans = all.filter((s) => s.traceId === traceId)
console.log(`\ntrace ${traceId} of order-${orders}: ${spans.length} spans in ${new Set(spans.map((s) => s.service)).size} processes`)
for (const { span, depth } of tree(spans)) console.log(`${'  '.repeat(depth)}${span.name}  [${span.service}] ${(span.end - span.start).toFixed(2)} ms`)
writeFileSync(`${dir}/trace.html`, timelinePage(traceId, spans))
console.log(`\ntimeline: ${dir}/trace.html; every span: ${files.web}, ${files.shipper}`)
