import { expect } from 'chai'
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
})
