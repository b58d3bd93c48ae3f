import { expect } from 'chai'
import { SqliteStore, type EventEnvelope, type StorageAdapter } from 'omniscient-actors'
import { collect, newEvent } from '../../store/conformance.js'
import { waitUntil } from '../../support/processes.js'
import { startSyncServer, type SyncServerHarness } from '../syncServer.js'

const auth = { Authorization: 'Bearer token-alice' }

async function get(server: SyncServerHarness, path: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${server.url}${path}`, { headers: auth, signal: AbortSignal.timeout(5_000) })
  const text = await response.text()
  return { status: response.status, code: text.startsWith('{"error"') ? (JSON.parse(text) as { error: { code: string } }).error.code : undefined }
}

describe('serveSync (requests an outside client may send)', function () {
  this.timeout(20_000)
  let server: SyncServerHarness | undefined
  afterEach(async () => {
    await server?.dispose()
    server = undefined
  })

  it('should answer 400 BAD_REQUEST to a path whose percent-encoding is malformed', async () => {
    server = await startSyncServer()
    expect(await get(server, '/streams/%E0%A4%A/events')).to.deep.equal({ status: 400, code: 'BAD_REQUEST' })
    expect(await get(server, '/streams/%ED%A0%80')).to.deep.equal({ status: 400, code: 'BAD_REQUEST' })
  })

  it('should answer 400 INVALID_ARGUMENT to a read of a stream id the store refuses, before any event line', async () => {
    server = await startSyncServer()
    const long = 'x'.repeat(2_000)
    expect(await get(server, `/streams/${long}/events`)).to.deep.equal({ status: 400, code: 'INVALID_ARGUMENT' })
    expect(await get(server, '/streams/a%00b/events')).to.deep.equal({ status: 400, code: 'INVALID_ARGUMENT' })
    expect(await get(server, `/streams/${long}`)).to.deep.equal({ status: 400, code: 'INVALID_ARGUMENT' })
    expect(await get(server, `/live?streamId=${long}`)).to.deep.equal({ status: 400, code: 'INVALID_ARGUMENT' })
    expect(await get(server, `/events?streamId=${long}`)).to.deep.equal({ status: 400, code: 'INVALID_ARGUMENT' })
  })

  it('should end a live feed whose client left while it was being authorized, freeing its place', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    let asked = 0
    server = await startSyncServer({
      authorize: async ({ action, streamId }) => {
        if (action === 'read' && streamId === 'slow') {
          asked++
          await held
        }
        return true
      },
      server: { maxLiveFeedsPerUser: 1 },
    })
    const gone = new AbortController()
    const first = fetch(`${server.url}/live?streamId=slow`, { headers: auth, signal: gone.signal }).catch(() => undefined)
    await waitUntil(() => asked === 1, 5_000, 'the feed to be authorized')
    gone.abort()
    await first
    // Long enough for the server to see the socket close before the answer.
    await new Promise((r) => setTimeout(r, 100))
    release()
    // Its place is free again: the user's one feed opens (429 while the abandoned one holds it).
    let status = 0
    for (const deadline = Date.now() + 3_000; status !== 200 && Date.now() < deadline; ) {
      const open = new AbortController()
      status = (await fetch(`${server.url}/live?streamId=other`, { headers: auth, signal: open.signal })).status
      open.abort()
      if (status !== 200) await new Promise((r) => setTimeout(r, 50))
    }
    expect(status).to.equal(200)
    const s = server
    await waitUntil(() => s.handler.liveFeeds === 0, 5_000, 'no feed left open')
  })

  it('should answer a catch-up of one stream from a position by reading that stream, not the whole log', async () => {
    const inner = new SqliteStore({ file: ':memory:' })
    for (let round = 0; round < 20; round++) {
      for (let s = 0; s < 50; s++) await inner.append(`s-${s}`, [{ ...newEvent('happened', round, `e-${s}-${round}`), meta: {} }], { expectedVersion: round })
    }
    // Counts the rows each kind of read hands out.
    const touched = { log: 0, stream: 0 }
    const counting = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'readAll') return (options: unknown) => counted(target.readAll(options as never), 'log')
        if (key === 'readStoredText') return async (from: number, limit: number) => {
          const rows = await target.readStoredText(from, limit)
          touched.log += rows.length
          return rows
        }
        if (key === 'readStream') return (id: string, options: unknown) => counted(target.readStream(id, options as never), 'stream')
        const value = Reflect.get(target, key, receiver) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    }) as StorageAdapter
    async function* counted(events: AsyncIterable<EventEnvelope>, kind: 'log' | 'stream') {
      for await (const e of events) {
        touched[kind]++
        yield e
      }
    }
    server = await startSyncServer({ store: counting })
    const all = await collect(inner.readStream('s-7'))
    const from = all[12]!.position
    const response = await fetch(`${server.url}/events?streamId=s-7&fromPosition=${from}`, { headers: auth })
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as EventEnvelope)
    expect(lines.map((e) => e.version)).to.deep.equal([13, 14, 15, 16, 17, 18, 19, 20])
    expect(touched.log, 'rows of the whole log read').to.equal(0)
    expect(touched.stream, 'rows of the stream read').to.be.at.most(20)
    const before = touched.stream
    const first = await fetch(`${server.url}/events?streamId=s-7&names=happened`, { headers: auth })
    expect((await first.text()).trim().split('\n')).to.have.length(20)
    expect(touched.stream - before).to.equal(20)
    expect(touched.log).to.equal(0)
  })
  it('should end a cut-off NDJSON answer without the chunked terminator, so the client sees it cut', async () => {
    const inner = new SqliteStore({ file: ':memory:' })
    const big = 'x'.repeat(30_000)
    await inner.append('s', Array.from({ length: 20 }, (_, i) => ({ ...newEvent('happened', { big, i }), meta: {} })), { expectedVersion: 0 })
    // The store fails after 12 events (about 360 KB, past the first 256 KiB chunk sent).
    let failing = true
    const store = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'readStream') {
          return async function* (id: string, options: unknown) {
            let n = 0
            for await (const e of target.readStream(id, options as never)) {
              if (failing && ++n > 12) throw new Error('the disk went away')
              yield e
            }
          }
        }
        const value = Reflect.get(target, key, receiver) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    }) as StorageAdapter
    server = await startSyncServer({ store })
    // Cut before or after the first chunk reached the client: either way the read fails.
    for (let round = 0; round < 3; round++) {
      const read = await fetch(`${server.url}/streams/s/events`, { headers: auth })
        .then((response) => response.text())
        .then(
          () => 'complete',
          () => 'cut',
        )
      expect(read).to.equal('cut')
    }
    // The same read of a store that does not fail ends cleanly.
    failing = false
    const whole = await (await fetch(`${server.url}/streams/s/events`, { headers: auth })).text()
    expect(whole.trim().split('\n')).to.have.length(20)
  })
})
