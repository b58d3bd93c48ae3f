import { join } from 'node:path'
import { expect } from 'chai'
import { MAX_ID_BYTES, SqliteStore, StorageError, StoreClosedError, type EventEnvelope } from 'omniscient-actors'
import { IncompleteReadError, MemoryCopy, RemoteStore, SyncUnavailableError, type Fetch, type LocalCopy } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { derivedName } from '../../actors/derivedNames.js'
import { collect, newEvent } from '../store/conformance.js'
import { waitUntil } from '../support/processes.js'
import { startSyncServer, syncServerEachTest } from './syncServer.js'

/** A local copy that counts its writes of events, around a real one. */
function countingCopy(inner: LocalCopy): LocalCopy & { keeps: number } {
  const counted = Object.create(inner) as LocalCopy & { keeps: number }
  counted.keeps = 0
  counted.keep = (streamId: string, events: readonly EventEnvelope[]) => {
    counted.keeps++
    return inner.keep(streamId, events)
  }
  return counted
}

/** A fetch whose answers to reads of `streamId`'s events are cut off after `lines` lines, `times` times. */
function cuttingFetch(streamId: string, lines: number, times: number): Fetch & { cuts: number } {
  const cutting = (async (input: string, init?: RequestInit) => {
    const response = await fetch(input, init)
    if (!input.includes(`/streams/${streamId}/events`) || (init?.method ?? 'GET') !== 'GET' || cutting.cuts >= times) return response
    cutting.cuts++
    const text = await response.text()
    const kept = text.split('\n').slice(0, lines).join('\n') + '\n'
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new TypeError('terminated'))
        sent = true
        controller.enqueue(new TextEncoder().encode(kept))
      },
    })
    return new Response(body, { status: response.status, headers: response.headers })
  }) as Fetch & { cuts: number }
  cutting.cuts = 0
  return cutting
}

const seed = (count: number, prefix = 'e') => Array.from({ length: count }, (_, i) => ({ ...newEvent(`${prefix}-${i}`, i), meta: {} }))

describe('RemoteStore and its local copy', function () {
  this.timeout(20_000)
  const server = syncServerEachTest()

  describe('live events in the copy', () => {
    it('should keep a burst of live events in a few writes, not one each, holding every one in order', async () => {
      const file = join(server.current.dir, 'device.db')
      const copy = countingCopy(new SqliteCopy({ file }))
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', local: copy })
      const seen: number[] = []
      const sub = store.subscribe({ streamId: 's' }, (e) => void seen.push(e.version))
      await waitUntil(() => server.current.handler.liveFeeds === 1, 5_000, 'the live feed')
      await server.current.container.store.append('s', seed(300), { expectedVersion: 0 })
      await waitUntil(() => seen.length === 300, 10_000, 'every live event')
      await sub.close()
      await store.close()
      expect(copy.keeps, 'writes for 300 live events').to.be.lessThan(30)
      const again = new SqliteCopy({ file })
      try {
        expect(await again.knownVersion('s')).to.equal(300)
        expect((await collect(again.readStream('s', 1, 300))).map((e) => e.version)).to.deep.equal(seen)
      } finally {
        await again.close()
      }
    })

    it('should serve a read right after a live event from the copy, offline, with that event in it', async () => {
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new MemoryCopy(), backoff: { initialMs: 20, maxMs: 50 } })
      try {
        let last = 0
        const sub = store.subscribe({ streamId: 's' }, (e) => void (last = e.version))
        await waitUntil(() => server.current.handler.liveFeeds === 1, 5_000, 'the live feed')
        await server.current.container.store.append('s', seed(3), { expectedVersion: 0 })
        await waitUntil(() => last === 3, 5_000, 'the live events')
        await server.current.stop()
        expect((await collect(store.readStream('s'))).map((e) => e.version)).to.deep.equal([1, 2, 3])
        expect(await store.streamVersion('s')).to.equal(3)
        await sub.close()
      } finally {
        await store.close()
      }
    })
  })

  describe('a read cut off mid-answer', () => {
    it('should resume from the next version and give the whole stream when the server answers again', async () => {
      await server.current.container.store.append('s', seed(10), { expectedVersion: 0 })
      const cutting = cuttingFetch('s', 4, 1)
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', fetch: cutting })
      try {
        expect((await collect(store.readStream('s'))).map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        expect(cutting.cuts).to.equal(1)
      } finally {
        await store.close()
      }
    })

    it('offline, should end at the last known state when what it read continues the copy', async () => {
      await server.current.container.store.append('s', seed(10), { expectedVersion: 0 })
      const local = new MemoryCopy()
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', local, fetch: cuttingFetch('s', 4, 2) })
      try {
        expect((await collect(store.readStream('s'))).map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8])
        expect(await local.knownVersion('s'), 'what the device now knows: everything the read gave').to.equal(8)
      } finally {
        await store.close()
      }
    })

    it('offline, should fail with IncompleteReadError when what it read cannot be held past the copy', async () => {
      await server.current.container.store.append('s', seed(10), { expectedVersion: 0 })
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', fetch: cuttingFetch('s', 2, 2) })
      try {
        const versions: number[] = []
        const err = await (async () => {
          for await (const e of store.readStream('s', { fromVersion: 5 })) versions.push(e.version)
        })().catch((e: unknown) => e)
        expect(versions).to.deep.equal([5, 6, 7, 8])
        expect(err).to.be.instanceOf(IncompleteReadError)
        expect(err).to.include({ code: 'INCOMPLETE_READ', streamId: 's', lastVersion: 8, heldVersion: 0 })
      } finally {
        await store.close()
      }
    })
  })

  describe('readAll offline', () => {
    it('should fail with SyncUnavailableError rather than answer the log from a copy that holds only the streams it read', async () => {
      await server.current.container.store.append('s', seed(3), { expectedVersion: 0 })
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice' })
      try {
        expect(await collect(store.readStream('s'))).to.have.length(3)
        await server.current.stop()
        expect(await collect(store.readAll()).catch((e: unknown) => e)).to.be.instanceOf(SyncUnavailableError)
      } finally {
        await store.close()
      }
    })
  })

  describe('the server store\'s id limit', () => {
    it('should learn maxIdBytes from the server, so derived names fit, and remember it in its copy offline', async () => {
      await server.current.dispose()
      // A store with a short id limit, as a RethinkStore has (80 bytes).
      const short = new SqliteStore({ file: ':memory:' })
      Object.defineProperty(short, 'maxIdBytes', { value: 80 })
      server.current = await startSyncServer({ store: short })
      const file = join(server.current.dir, 'device.db')
      const longType = 'T'.repeat(90)
      const first = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file }) })
      try {
        expect(first.maxIdBytes, 'before the server said').to.equal(undefined)
        await first.headPosition()
        expect(first.maxIdBytes).to.equal(80)
        expect(derivedName(first, 'one', longType, 'id-1')).to.match(/^one\/#/)
      } finally {
        await first.close()
      }
      await server.current.stop()
      const offline = new RemoteStore({ url: server.current.url, token: 'token-alice', local: new SqliteCopy({ file }), backoff: { initialMs: 20, maxMs: 50 } })
      try {
        await offline.headPosition()
        expect(offline.maxIdBytes, 'remembered by the copy').to.equal(80)
      } finally {
        await offline.close()
      }
    })

    it('should have no limit of its own before a server without one answered, and none after', async () => {
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice' })
      try {
        await store.headPosition()
        expect(store.maxIdBytes).to.equal(undefined)
        expect(derivedName(store, 'one', 'T'.repeat(90), 'id-1').length).to.be.lessThan(MAX_ID_BYTES)
      } finally {
        await store.close()
      }
    })
  })

  describe('close()', () => {
    it('should return promptly while an append waits out a long reconnection backoff', async function () {
      this.timeout(5_000)
      const store = new RemoteStore({ url: server.current.url, token: 'token-alice', backoff: { initialMs: 60_000, maxMs: 60_000 } })
      await store.headPosition()
      await server.current.stop()
      const appended = store.append('s', seed(1), { expectedVersion: 0 }).catch((e: unknown) => e)
      await waitUntil(() => store.status.queued === 1 && !store.status.connected, 3_000, 'the append to wait for the server')
      // The first attempt failed: the append now sleeps 30 to 60 s before probing again.
      await new Promise((r) => setTimeout(r, 50))
      await store.close()
      const err = await appended
      expect(err).to.be.instanceOf(StorageError)
      expect(err).to.be.instanceOf(StoreClosedError).and.include({ code: 'STORE_CLOSED' })
    })
  })
})
