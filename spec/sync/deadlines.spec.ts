import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { RemoteStore, SyncTimeoutError, type Fetch } from 'omniscient-actors/sync'
import { collect, newEvent } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { startSyncServer, syncServerEachTest } from './syncServer.js'

// A silent link: the server (or what is between) takes the request and never answers, with no
// RST and no FIN. Without deadlines a call would wait as long as TCP keepalive: hours.
describe('RemoteStore deadlines', function () {
  this.timeout(20_000)
  const server = syncServerEachTest()
  let silent: Server | undefined
  afterEach(async () => {
    silent?.closeAllConnections()
    if (silent) await new Promise((resolve) => silent!.close(resolve))
    silent = undefined
  })

  async function silentServer(): Promise<string> {
    silent = createServer(() => {}) // takes every request, answers none
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
  }

  it('should fail each call past callTimeoutMs: STORAGE_INDETERMINATE for an append, STORAGE_UNAVAILABLE for a read', async () => {
    const store = new RemoteStore({ url: await silentServer(), token: 'token-alice', offline: false, callTimeoutMs: 300 })
    try {
      const started = Date.now()
      const append = await store.append('s', [{ ...newEvent(), meta: {} }], { expectedVersion: 0 }).catch((e: unknown) => e)
      expect(Date.now() - started).to.be.within(250, 2_000)
      expect(append).to.be.instanceOf(SyncTimeoutError).and.include({ code: 'STORAGE_INDETERMINATE', timeoutMs: 300 })
      expect((append as Error).message).to.include('POST /streams/s/events').and.include('callTimeoutMs').and.include('same ids')
      const read = await collect(store.readStream('s')).catch((e: unknown) => e)
      expect(read).to.be.instanceOf(SyncTimeoutError).and.include({ code: 'STORAGE_UNAVAILABLE' })
      expect(await store.streamVersion('s').catch((e: unknown) => e)).to.include({ code: 'STORAGE_UNAVAILABLE' })
      expect(await store.acquireLease('L', 'me', 1_000, 0).catch((e: unknown) => e)).to.include({ code: 'STORAGE_INDETERMINATE' })
    } finally {
      await store.close()
    }
  })

  it('should drop a live feed silent past liveSilenceMs and reconnect, missing nothing', async () => {
    let lives = 0
    // The first live connection goes silent after its headers, as a dead NAT leaves it.
    const fetchFn: Fetch = (url, init) => {
      if (url.includes('/live') && ++lives === 1) {
        // As fetch's own body does, it errors when the request is aborted.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            init?.signal?.addEventListener('abort', () => controller.error(new DOMException('This operation was aborted', 'AbortError')))
          },
        })
        return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } }))
      }
      return fetch(url, init)
    }
    const store = new RemoteStore({ url: server.current.url, token: 'token-alice', fetch: fetchFn, liveSilenceMs: 400, backoff: { initialMs: 20, maxMs: 50 } })
    const got: string[] = []
    const retries: unknown[] = []
    try {
      await store.headPosition()
      const subscription = store.subscribe({ fromPosition: 1, onRetry: (err) => void retries.push(err) }, (e) => void got.push(e.id))
      await server.current.container.store.append('s', [{ ...newEvent(), id: 'first', meta: {} }], { expectedVersion: 0 })
      const started = Date.now()
      await waitUntil(() => got.includes('first'), 5_000, 'the event after the silent feed was dropped')
      expect(Date.now() - started, 'within liveSilenceMs and a backoff').to.be.lessThan(2_000)
      expect(lives).to.equal(2)
      expect(retries[0]).to.be.instanceOf(SyncTimeoutError).and.include({ code: 'STORAGE_UNAVAILABLE', timeoutMs: 400 })
      expect((retries[0] as Error).message).to.include('liveSilenceMs')
      await subscription.close()
    } finally {
      await store.close()
    }
  })

  it('should not cut a feed that only heartbeats', async () => {
    const beating = await startSyncServer({ server: { heartbeatMs: 100 } })
    const store = new RemoteStore({ url: beating.url, token: 'token-alice', liveSilenceMs: 400 })
    try {
      await store.headPosition()
      const retries: unknown[] = []
      const subscription = store.subscribe({ fromPosition: 1, onRetry: (err) => void retries.push(err) }, () => {})
      await new Promise((r) => setTimeout(r, 1_000))
      await subscription.close()
      expect(retries).to.deep.equal([])
    } finally {
      await store.close()
      await beating.dispose()
    }
  })
})
