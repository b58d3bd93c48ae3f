// The cost of telemetry on sequential Fire: without @opentelemetry/api, with it and no SDK
// registered (the bar: within 3%), and with the SDK registered (batching spans, as production
// set-ups do) and exporters that drop everything (the cost per Fire of making the spans and
// metrics). Durable SQLite Fire in Fires per second; MemoryStore Fire, which is all CPU, also
// in CPU time per Fire (process.cpuUsage), which other load on the machine disturbs less.
import * as api from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { createContainer, MemoryStore, SqliteStore, useOpenTelemetry, type StorageAdapter } from 'omniscient-actors'
import { Account, NOTE } from './Account.js'
import { pairedRates, perSecond, printTable, rate, tempDb, type Row } from './support.js'

const FIRES = { sqlite: 2_000, memory: 20_000 }
const RUNS = 9

const dropSpans: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
class NeverCollected extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** CPU time (user + system) per Fire on a MemoryStore, in µs, as a "rate" (Fires per CPU second) for pairedRates. */
async function cpuRate(): Promise<number> {
  const store = new MemoryStore()
  const account = await new Account('acct', createContainer({ store })).Load()
  const n = FIRES.memory
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) await account.Fire('deposited', { amount: i, note: NOTE })
  const used = process.cpuUsage(before)
  await store.close()
  return n / ((used.user + used.system) / 1e6)
}

async function fireSequential(kind: 'sqlite' | 'memory'): Promise<number> {
  const tmp = tempDb('telemetry')
  const store: StorageAdapter = kind === 'sqlite' ? new SqliteStore({ file: tmp.file }) : new MemoryStore()
  const account = await new Account('acct', createContainer({ store })).Load()
  const n = FIRES[kind]
  const r = await rate(n, async () => {
    for (let i = 0; i < n; i++) await account.Fire('deposited', { amount: i, note: NOTE })
  })
  await store.close()
  tmp.remove()
  return r
}

/** Runs `measure` with the API as given, then puts the API back. */
function withApi(module: typeof api | undefined, measure: () => Promise<number>): () => Promise<number> {
  return async () => {
    useOpenTelemetry(module)
    try {
      return await measure()
    } finally {
      useOpenTelemetry(api)
    }
  }
}

function withSdk(measure: () => Promise<number>): () => Promise<number> {
  return async () => {
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] })
    const meterProvider = new MeterProvider({ readers: [new NeverCollected()] })
    api.trace.setGlobalTracerProvider(tracerProvider)
    api.metrics.setGlobalMeterProvider(meterProvider)
    try {
      return await measure()
    } finally {
      api.trace.disable()
      api.metrics.disable()
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    }
  }
}

const micros = (perSecondRate: number) => 1e6 / perSecondRate

export async function benchTelemetry(): Promise<void> {
  const rows: Row[] = []
  for (const kind of ['sqlite', 'memory'] as const) {
    const fire = () => fireSequential(kind)
    const idle = await pairedRates(RUNS, withApi(undefined, fire), withApi(api, fire))
    const sdk = await pairedRates(RUNS, withApi(api, fire), withSdk(fire))
    const label = kind === 'sqlite' ? `SqliteStore, durable (${FIRES.sqlite} Fires)` : `MemoryStore (${FIRES.memory.toLocaleString('en-US')} Fires)`
    rows.push(
      {
        what: `sequential Fire, ${label}: API, no SDK`,
        value: perSecond(idle.measured),
        baseline: `${perSecond(idle.baseline)} without API`,
        ratio: `${idle.ratio.toFixed(3)}x`,
        goal: '>= 0.97x without',
      },
      {
        what: '  the same with the SDK, exporters dropping all',
        value: perSecond(sdk.measured),
        baseline: `${perSecond(sdk.baseline)} no SDK`,
        ratio: `${sdk.ratio.toFixed(3)}x`,
        goal: `${(micros(sdk.measured) - micros(sdk.baseline)).toFixed(1)} µs per Fire`,
      },
    )
  }
  const cpuIdle = await pairedRates(RUNS, withApi(undefined, cpuRate), withApi(api, cpuRate))
  const cpuSdk = await pairedRates(RUNS, withApi(api, cpuRate), withSdk(cpuRate))
  rows.push(
    {
      what: 'CPU per Fire, MemoryStore: API, no SDK',
      value: `${micros(cpuIdle.measured).toFixed(2)} µs`,
      baseline: `${micros(cpuIdle.baseline).toFixed(2)} µs without API`,
      ratio: `${cpuIdle.ratio.toFixed(3)}x`,
      goal: '>= 0.97x without',
    },
    {
      what: '  the same with the SDK, exporters dropping all',
      value: `${micros(cpuSdk.measured).toFixed(2)} µs`,
      baseline: `${micros(cpuSdk.baseline).toFixed(2)} µs no SDK`,
      ratio: `${cpuSdk.ratio.toFixed(3)}x`,
      goal: `+${(micros(cpuSdk.measured) - micros(cpuSdk.baseline)).toFixed(2)} µs per Fire`,
    },
  )
  printTable(`Telemetry on sequential Fire (medians of ${RUNS} runs, ratios of runs paired with their baseline)`, rows)
}

if (import.meta.url === `file://${process.argv[1]}`) await benchTelemetry()
