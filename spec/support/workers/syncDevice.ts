// A sync device for spec/sync/device.partition.faults.spec.ts: a RemoteStore (offline mode, a
// MemoryCopy, the deadlines it is given) with a Tally LiveActor following stream `tally`, that
// fires small events with ids of its own (at most `maxPending` unacknowledged at once) and,
// with `batch`, appends big batches to stream `uploads` one after another, so that an upload is
// on the wire most of the time. Every request to the server goes through a recording fetch.
// One line each, with this machine's clock (ms):
//   req <n> <METHOD> <path> <start>                  a request begins
//   res <n> <at>                                     its answer's headers arrived
//   http <n> <METHOD> <path> <start> <headers|-1> <end> <longestWait> <lastChunk|-1> <status>|<code>
//                                                    it ended: the whole answer read (its status),
//                                                    or failed (the error's code); longestWait is
//                                                    the longest wait for the headers or a chunk
//   begin <id> <start>                               a Fire or a batch begins
//   fire <id> <start> <end> 0 ok <version> | ... err <code>        (spec/support/faults/History.ts)
//   batch <id> <events> <start> <end> ok <firstVersion> <alreadyStored 0|1> | ... err <code>
//   status <connected 0|1> <queued> <at>             the store's status, when either changes
//   following <0|1> <at>                             the Tally's Following, when it changes
//   report <code> <at>                               what the container reports
import { createContainer, isOmniscientError, type NewEvent } from 'omniscient-actors'
import { RemoteStore, type Fetch } from 'omniscient-actors/sync'
import { Tally } from '../Tally.js'

/** What the spec passes, as JSON. */
export interface DeviceOptions {
  readonly url: string
  readonly token: string
  readonly label: string
  readonly callTimeoutMs: number
  readonly liveSilenceMs: number
  readonly backoff: { readonly initialMs: number; readonly maxMs: number }
  readonly fireEveryMs: number
  readonly maxPending: number
  readonly batch?: { readonly events: number; readonly padBytes: number; readonly pauseMs: number }
}

const options = JSON.parse(process.argv[2]!) as DeviceOptions
// An error's code; a network failure as fetch's TypeError with its cause's code (ECONNRESET...).
const codeOf = (err: unknown) => {
  if (isOmniscientError(err)) return err.code
  const cause = (err as Error).cause as { code?: unknown } | undefined
  return typeof cause?.code === 'string' ? `${(err as Error).name}/${cause.code}` : (err as Error).name
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const base = new URL(options.url).pathname.replace(/\/+$/, '')

let requests = 0
const recording: Fetch = async (input, init) => {
  const n = ++requests
  const method = init?.method ?? 'GET'
  const path = new URL(input).pathname.slice(base.length)
  const start = Date.now()
  let headersAt = -1
  let longest = 0
  let lastChunk = -1
  let ended = false
  const end = (outcome: string) => {
    if (ended) return
    ended = true
    console.log(`http ${n} ${method} ${path} ${start} ${headersAt} ${Date.now()} ${longest} ${lastChunk} ${outcome}`)
  }
  console.log(`req ${n} ${method} ${path} ${start}`)
  let response: Response
  try {
    response = await fetch(input, init)
  } catch (err) {
    longest = Date.now() - start
    end(codeOf(err))
    throw err
  }
  headersAt = Date.now()
  longest = headersAt - start
  console.log(`res ${n} ${headersAt}`)
  if (!response.body) {
    end(String(response.status))
    return response
  }
  const reader = response.body.getReader()
  // Pulled only when the client reads (highWaterMark 0): a wait is the client's wait.
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const asked = Date.now()
        try {
          const { done, value } = await reader.read()
          longest = Math.max(longest, Date.now() - asked)
          if (done) {
            end(String(response.status))
            controller.close()
            return
          }
          lastChunk = Date.now()
          controller.enqueue(value)
        } catch (err) {
          longest = Math.max(longest, Date.now() - asked)
          end(codeOf(err))
          controller.error(err)
        }
      },
      cancel(reason) {
        end('cancelled')
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}

const store = new RemoteStore({
  url: options.url,
  token: options.token,
  fetch: recording,
  callTimeoutMs: options.callTimeoutMs,
  liveSilenceMs: options.liveSilenceMs,
  backoff: options.backoff,
})
let shown = ''
store.onStatus((s) => {
  const now = `${s.connected ? 1 : 0} ${s.queued}`
  if (now === shown) return
  shown = now
  console.log(`status ${now} ${Date.now()}`)
})
const container = createContainer({ store, report: (err) => console.log(`report ${codeOf(err)} ${Date.now()}`) })
const tally = await new Tally('tally', container).Load()
let following: boolean | undefined
const watch = () => {
  if (tally.Following === following) return
  following = tally.Following
  console.log(`following ${following ? 1 : 0} ${Date.now()}`)
}
setInterval(watch, 2)
watch()
console.log('ready')

async function fireSmall(): Promise<void> {
  let pending = 0
  for (let n = 0; ; n++) {
    while (pending >= options.maxPending) await sleep(5)
    const id = `${options.label}-${n}`
    const start = Date.now()
    console.log(`begin ${id} ${start}`)
    pending++
    void tally
      .Fire('counted', { by: options.label, n }, { id })
      .then(
        (stored) => console.log(`fire ${id} ${start} ${Date.now()} 0 ok ${stored.version}`),
        (err: unknown) => console.log(`fire ${id} ${start} ${Date.now()} 0 err ${codeOf(err)}`),
      )
      .finally(() => pending--)
    await sleep(options.fireEveryMs)
  }
}

async function uploadBatches(batch: NonNullable<DeviceOptions['batch']>): Promise<void> {
  const pad = 'x'.repeat(batch.padBytes)
  for (let n = 0; ; n++) {
    const id = `${options.label}-batch-${n}`
    const events: NewEvent[] = Array.from({ length: batch.events }, (_, k) => ({ id: `${id}-${k}`, name: 'uploaded', data: { by: options.label, n, k, pad }, schemaVersion: 1, at: Date.now(), meta: {} }))
    const start = Date.now()
    console.log(`begin ${id} ${start}`)
    try {
      const result = await store.append('uploads', events, { expectedVersion: 'any' })
      console.log(`batch ${id} ${events.length} ${start} ${Date.now()} ok ${result.events[0]!.version} ${result.alreadyStored ? 1 : 0}`)
    } catch (err) {
      console.log(`batch ${id} ${events.length} ${start} ${Date.now()} err ${codeOf(err)}`)
    }
    await sleep(batch.pauseMs)
  }
}

await Promise.all([fireSmall(), options.batch ? uploadBatches(options.batch) : undefined])
