// Sync figures: catch-up of 100,000 events over HTTP against a local readAll of the same store,
// live delivery from a commit on the server to a RemoteStore follower, and one server holding
// 1,000 live followers of distinct streams while events are fired, and a stream followed into
// a SqliteCopy against the same into a MemoryCopy.
import { createServer } from 'node:http'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { AddressInfo } from 'node:net'
import { createContainer, SqliteStore, type NewEvent, type StorageAdapter } from 'omniscient-actors'
import { MemoryCopy, RemoteStore, type LocalCopy } from 'omniscient-actors/sync'
import { SqliteCopy } from 'omniscient-actors/sync/sqlite'
import { bearerTokens, serveSync, type SyncHandler } from 'omniscient-actors/sync-server'
import { startWorker, waitUntil } from '../spec/support/processes.js'
import { percentile, perSecond, printTable, tempDb, type Row } from './support.js'

const CATCH_UP = 100_000
const PINGS = 500
const FOLLOWERS = 1_000
const COPIED = 5_000

const ms = (n: number) => `${n.toFixed(2)} ms`
const now = () => performance.timeOrigin + performance.now()
// A full collection before each memory reading, without asking for --expose-gc.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function serve(store: StorageAdapter): Promise<{ url: string; handler: SyncHandler; close: () => Promise<void> }> {
  const handler = serveSync(createContainer({ store }), {
    authenticate: bearerTokens({ 'bench-token-0123456789': 'bench' }),
    authorize: () => true,
    maxLiveFeedsPerUser: FOLLOWERS + 10,
  })
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handler,
    async close() {
      await handler.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

const event = (id: string, data: unknown): NewEvent => ({ id, name: 'happened', data, schemaVersion: 1, at: Date.now(), meta: { actorType: 'Bench' } })

async function catchUp(): Promise<Row> {
  const db = tempDb('sync-catchup')
  const store = new SqliteStore({ file: db.file })
  for (let b = 0; b < CATCH_UP / 1_000; b++) {
    await store.append(`s-${b % 100}`, Array.from({ length: 1_000 }, (_, i) => event(`c-${b}-${i}`, { b, i, text: 'some payload text' })), { expectedVersion: 'any' })
  }
  const server = await serve(store)
  const local = async () => {
    const start = performance.now()
    let n = 0
    for await (const _ of store.readAll()) n++
    return n / ((performance.now() - start) / 1000)
  }
  // The baseline before and after the client's runs, so a drifting machine moves both alike.
  const baselines = [await local(), await local()]
  const runs = 3
  const client = startWorker('../../../bench/workers/syncCatchUp', [server.url, String(CATCH_UP), String(runs)])
  await client.exited
  baselines.push(await local(), await local())
  const rates = client.lines.filter((l) => l.startsWith('rate ')).map((l) => Number(l.slice(5)))
  if (rates.length !== runs) throw new Error(`the catch-up client failed: ${client.lines.join(' | ')}`)
  await server.close()
  await store.close()
  db.remove()
  const figures = { measured: median(rates), baseline: median(baselines), ratio: median(rates) / median(baselines) }
  return { what: `catch-up of ${CATCH_UP.toLocaleString('en-US')} events over HTTP (RemoteStore readAll, client process)`, value: perSecond(figures.measured), baseline: `${perSecond(figures.baseline)} local readAll`, ratio: `${figures.ratio.toFixed(2)}x`, goal: `>= 0.5x: ${figures.ratio >= 0.5 ? 'met' : 'not met'}` }
}

async function liveLatency(): Promise<Row[]> {
  const db = tempDb('sync-live')
  const store = new SqliteStore({ file: db.file })
  const server = await serve(store)
  const remote = new RemoteStore({ url: server.url, token: 'bench-token-0123456789', offline: false })
  const remoteAt: number[] = []
  const localAt: number[] = []
  const sub = remote.subscribe({ streamId: 'ping' }, (e) => void (remoteAt[(e.data as { i: number }).i] = now()))
  const local = store.subscribe({ streamId: 'ping' }, (e) => void (localAt[(e.data as { i: number }).i] = now()))
  await waitUntil(() => server.handler.liveFeeds === 1, 10_000, 'the follower')
  const committed: number[] = []
  for (let i = 0; i < PINGS; i++) {
    await store.append('ping', [event(`ping-${i}`, { i })], { expectedVersion: i })
    committed[i] = now()
    await new Promise((r) => setTimeout(r, 1 + Math.random() * 2))
  }
  await waitUntil(() => remoteAt.filter(Boolean).length === PINGS, 30_000, 'every ping')
  await Promise.all([sub.close(), local.close()])
  await remote.close()
  await server.close()
  await store.close()
  db.remove()
  const lag = (at: number[]) => at.map((t, i) => Math.max(0, t - committed[i]!)).sort((a, b) => a - b)
  const r = lag(remoteAt)
  const l = lag(localAt)
  return [
    { what: 'live delivery, commit on the server to a RemoteStore handler, p50', value: ms(percentile(r, 50)), baseline: `${ms(percentile(l, 50))} in-process subscriber`, ratio: '', goal: '' },
    { what: 'the same, p99', value: ms(percentile(r, 99)), baseline: `${ms(percentile(l, 99))} in-process`, ratio: '', goal: `p99 < 10 ms: ${percentile(r, 99) < 10 ? 'met' : 'not met'}` },
  ]
}

/**
 * A stream subscription's events written into a SqliteCopy (on disk, synchronous = FULL), against
 * the same subscription into a MemoryCopy: from subscribe to the store closed (the copy then
 * holds every event), alternating, three runs of each.
 */
async function followIntoCopy(): Promise<Row> {
  const db = tempDb('sync-copy')
  const store = new SqliteStore({ file: db.file })
  for (let b = 0; b < COPIED / 500; b++) {
    await store.append('copied', Array.from({ length: 500 }, (_, i) => event(`k-${b}-${i}`, { b, i, text: 'some payload text' })), { expectedVersion: b * 500 })
  }
  const server = await serve(store)
  const follow = async (local: LocalCopy): Promise<number> => {
    const remote = new RemoteStore({ url: server.url, token: 'bench-token-0123456789', offline: false, local })
    const start = performance.now()
    let n = 0
    const sub = remote.subscribe({ streamId: 'copied' }, () => void n++)
    await waitUntil(() => n === COPIED, 60_000, 'every event followed')
    await sub.close()
    await remote.close()
    return COPIED / ((performance.now() - start) / 1000)
  }
  const memory: number[] = []
  const sqlite: number[] = []
  for (let run = 0; run < 3; run++) {
    memory.push(await follow(new MemoryCopy()))
    const file = tempDb('sync-copy-device')
    sqlite.push(await follow(new SqliteCopy({ file: file.file })))
    file.remove()
  }
  await server.close()
  await store.close()
  db.remove()
  const ratio = median(sqlite) / median(memory)
  return { what: `a stream of ${COPIED.toLocaleString('en-US')} events followed live into a SqliteCopy (kept on disk)`, value: perSecond(median(sqlite)), baseline: `${perSecond(median(memory))} into a MemoryCopy`, ratio: `${ratio.toFixed(2)}x`, goal: '' }
}

async function manyFollowers(): Promise<Row[]> {
  const db = tempDb('sync-followers')
  const store = new SqliteStore({ file: db.file })
  const server = await serve(store)
  const rounds = 3
  gc()
  const before = process.memoryUsage()
  const worker = startWorker('../../../bench/workers/syncFollowers', [server.url, String(FOLLOWERS), String(FOLLOWERS * rounds)])
  await waitUntil(() => worker.lines.some((l) => l.startsWith('ready')), 60_000, 'the followers')
  await waitUntil(() => server.handler.liveFeeds === FOLLOWERS, 60_000, `${FOLLOWERS} live feeds`)
  await new Promise((r) => setTimeout(r, 500))
  gc()
  const held = process.memoryUsage()
  const perFollowerKb = (held.rss - before.rss) / FOLLOWERS / 1024
  // Events on every follower's stream, a thousand at a time, spread over a second each round.
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < FOLLOWERS; i++) {
      await store.append(`follower-${i}`, [event(`f-${round}-${i}`, { sentAt: now() })], { expectedVersion: round })
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10))
    }
  }
  await waitUntil(() => worker.lines.length >= 2, 60_000, 'the followers to report')
  await worker.exited
  await server.close()
  await store.close()
  db.remove()
  const lags = (JSON.parse(worker.lines[1]!) as number[]).sort((a, b) => a - b)
  return [
    { what: `${FOLLOWERS.toLocaleString('en-US')} live followers of distinct streams, delivery p50`, value: ms(percentile(lags, 50)), baseline: '', ratio: '', goal: '' },
    { what: 'the same, p99', value: ms(percentile(lags, 99)), baseline: '', ratio: '', goal: `p99 < 100 ms: ${percentile(lags, 99) < 100 ? 'met' : 'not met'}` },
    { what: 'server memory per live follower (RSS)', value: `${perFollowerKb.toFixed(1)} KiB`, baseline: '', ratio: '', goal: '' },
  ]
}

export async function benchSync(): Promise<void> {
  // The followers first: their RSS reading would otherwise be moved by what the catch-up's
  // 20 MB of NDJSON left for the allocator to hand back.
  const followers = await manyFollowers()
  const rows = [await catchUp(), ...(await liveLatency()), ...followers, await followIntoCopy()]
  printTable('Sync over HTTP (loopback; the clients of catch-up and of the 1,000 followers in their own process)', rows)
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSync()
