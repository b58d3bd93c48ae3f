import { expect } from 'chai'
import { SqliteStore, type EventEnvelope, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { collect } from '../store/conformance.js'
import { DeviceHistory, deviceLogProblems, type RequestRecord } from '../support/faults/DeviceHistory.js'
import { Link } from '../support/faults/Link.js'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { killWorkers, startWorker } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'
import type { DeviceOptions } from '../support/workers/syncDevice.js'
import { startSyncServer, type SyncServerHarness } from './syncServer.js'

// A sync device cut from its server mid-upload for 9 s (a partition: no answer, no RST), while
// a second device keeps its link and writes the same stream. The cut device fires small events
// on a LiveActor and uploads big batches one after another; the cut comes while a batch is on
// the wire. Both print every request, Fire, batch and status change
// (spec/support/workers/syncDevice.ts).

const CUT_MS = 9_000
// The cut device's deadlines (RemoteStore options), short to keep the spec short; the bounds
// below come from them. The server's heartbeat is well under liveSilenceMs.
const CALL_MS = 2_000
const SILENCE_MS = 3_000
const HEARTBEAT_MS = 1_000
const BACKOFF = { initialMs: 100, maxMs: 1_000 }
// Fires of the cut device not yet acknowledged, at most (it waits before firing more).
const MAX_PENDING = 8
// Slack for a loaded machine on top of each bound.
const SLACK_MS = 1_500
// After heal, back in touch: the request in flight at the heal ends by its deadline, the
// reconnection probe (or the live feed's next attempt) waits one backoff at most, then answers
// within its deadline.
const RECONNECT_MS = CALL_MS + BACKOFF.maxMs + CALL_MS
// The LiveActor's Following comes back with the first event delivered, or with its own probe
// of the stream, made at least every 2 s while following fails (a read: one deadline).
const FOLLOWING_MS = RECONNECT_MS + 2_000 + CALL_MS
// Then what was queued is sent at once, one append at a time on the LiveActor's stream (each
// within its deadline), the batch beside them. Each race lost to the other device costs a
// read of the winner's events and the pending appends sent again.
const drainMs = (lostRaces: number) => RECONNECT_MS + (1 + lostRaces) * (MAX_PENDING + 1) * CALL_MS

type Worker = ReturnType<typeof startWorker>

const device = (options: DeviceOptions, prefix: readonly string[] = []): Worker => startWorker('syncDevice', [JSON.stringify(options)], prefix)

/** The store behind the sync server: SQLite always, PostgreSQL when PG_URL is given. */
const backings: Array<{ name: string; open: () => { store: StorageAdapter; drop: () => Promise<void> } }> = [
  {
    name: 'SqliteStore',
    open: () => {
      const tmp = tempDir('omniscient-cut-')
      return { store: new SqliteStore({ file: `${tmp.dir}/server.db` }), drop: async () => tmp.remove() }
    },
  },
  ...(PG_URL === undefined ? [] : [postgres(PG_URL)]),
]

function postgres(url: string): (typeof backings)[number] {
  return {
    name: 'PgStore',
    open: () => {
      const schema = freshSchema()
      return { store: new PgStore({ connectionString: url, schema }), drop: () => dropSchema(schema) }
    },
  }
}

for (const backing of backings) {
  describe(`A sync device cut from its server (on a ${backing.name}) mid-upload for ${CUT_MS / 1000} s`, function () {
    this.timeout(90_000)
    let server: SyncServerHarness | undefined
    let drop: (() => Promise<void>) | undefined
    let workers: Worker[] = []
    let link: Link | undefined
    afterEach(async () => {
      await killWorkers(workers)
      workers = []
      await link?.close()
      link = undefined
      await server?.dispose()
      server = undefined
      await drop?.()
      drop = undefined
    })

    for (const kind of Link.kinds()) {
      it(`through a ${kind === 'namespace' ? 'network namespace whose link goes down' : 'TCP proxy that goes silent'}: every request by its deadline, each event stored once, back and drained within its bound`, async () => {
        const backed = backing.open()
        drop = backed.drop
        server = await startSyncServer({ store: backed.store, server: { heartbeatMs: HEARTBEAT_MS } })
        link = await Link.open(kind, { host: '127.0.0.1', port: server.port })
        const common = { callTimeoutMs: CALL_MS, liveSilenceMs: SILENCE_MS, backoff: BACKOFF }
        const a = device({ ...common, url: `http://${link.address.host}:${link.address.port}`, token: 'token-alice', label: 'a', fireEveryMs: 40, maxPending: MAX_PENDING, batch: { events: 200, padBytes: 2_000, pauseMs: 100 } }, link.command)
        const b = device({ ...common, url: server.url, token: 'token-bob', label: 'b', fireEveryMs: 150, maxPending: 1 })
        workers.push(a, b)
        const history = () => new DeviceHistory({ a: a.lines, b: b.lines })
        const acked = (h: DeviceHistory, process: string, what: string) => h.writes.filter((w) => w.process === process && w.outcome === 'ok' && w.id.includes(what)).length
        await until(() => {
          const h = history()
          return acked(h, 'a', 'batch') >= 2 && acked(h, 'a', 'a-') >= 10 && acked(h, 'b', 'b-') >= 5
        }, 60_000, 'both devices to have written')

        // Cut as the next batch goes on the wire: its request line comes before its first byte.
        const cutAt = await new Promise<number>((resolve) => {
          let seen = a.lines.length
          const watch = () => {
            for (; seen < a.lines.length; seen++) {
              if (!/^req \d+ POST \/streams\/uploads\/events /.test(a.lines[seen]!)) continue
              link!.cut()
              a.stdout!.off('data', watch)
              return resolve(Date.now())
            }
          }
          a.stdout!.on('data', watch)
        })
        await new Promise((resolve) => setTimeout(resolve, CUT_MS))
        // The server still holds the cut device's feed: nothing tells it the link is gone.
        const feedsAtHeal = server.handler.liveFeeds
        link.heal()
        const healedAt = Date.now()

        // Back: connected and following again, and every Fire and batch begun before the heal answered.
        const recovery = (h: DeviceHistory) => {
          const begun = h.writes.filter((w) => w.process === 'a' && w.start < healedAt)
          const drained = begun.every((w) => w.end !== undefined) ? Math.max(...begun.map((w) => w.end!)) : undefined
          const live = h.requests.find((r) => r.process === 'a' && r.path === '/live' && r.headersAt !== undefined && r.headersAt >= healedAt)?.headersAt
          return { drained, live, connected: h.firstAfter(h.connected, 'a', true, healedAt), following: h.firstAfter(h.following, 'a', true, healedAt) }
        }
        await until(() => Object.values(recovery(history())).every((t) => t !== undefined), 40_000, 'the cut device to be back, live and drained')
      const feedsBack = server.handler.liveFeeds
        await killWorkers(workers)

        const h = history()
        const log: EventEnvelope[] = await collect(server.container.store.readAll())
        const back = recovery(h)
        const lostRaces = h.requests.filter((r) => r.process === 'a' && r.method === 'POST' && r.outcome === '409' && r.start >= healedAt && r.start <= back.drained!).length
        const inFlight = h.requests.filter((r) => r.process === 'a' && r.start <= cutAt && (r.end === undefined || r.end > cutAt))
        const upload = inFlight.find((r) => r.method === 'POST' && r.path === '/streams/uploads/events')
        const batchAtCut = h.writes.find((w) => w.process === 'a' && w.id.includes('batch') && w.start <= cutAt && (w.end ?? Infinity) > cutAt)
        const failed = h.requests.filter((r) => r.outcome !== undefined && !/^[1-4]\d\d$/.test(r.outcome))
        const liveAtCut = inFlight.find((r) => r.path === '/live')
        const noticed = h.firstAfter(h.following, 'a', false, cutAt)
        const slowest = (records: readonly RequestRecord[]) => Math.max(0, ...records.map((r) => r.longestWait))
        const notLive = h.requests.filter((r) => r.path !== '/live')
        if (process.env['SHOW_FAULTS'] || process.env['CI']) {
          console.log(
            `      ${backing.name}/${kind}: cut with ${inFlight.length} requests in flight (the batch ${batchAtCut?.id}: ${batchAtCut?.alreadyStored ? 'its first attempt was stored' : 'sent again and stored'}); ` +
              `${failed.length} requests failed (${[...new Set(failed.map((r) => r.outcome))].join(', ')}); longest wait of a request ${slowest(notLive)} ms (callTimeoutMs ${CALL_MS}), of the live feed ${slowest(h.requests.filter((r) => r.path === '/live'))} ms (liveSilenceMs ${SILENCE_MS}); ` +
              `silence noticed +${noticed! - cutAt} ms after the cut; after heal connected +${back.connected! - healedAt} ms, live +${back.live! - healedAt} ms, following +${back.following! - healedAt} ms, drained +${back.drained! - healedAt} ms (${lostRaces} races lost); ` +
              `${h.writes.filter((w) => w.outcome === 'ok').length} Fires and batches acknowledged, ${log.length} events stored; the server held ${feedsAtHeal} live feeds at the heal, ${feedsBack} once the device was back`,
          )
        }
        expect(upload, 'a batch upload in flight when the link was cut').to.not.equal(undefined)
        expect(upload!.outcome, 'the upload cut mid-way').to.equal('STORAGE_INDETERMINATE')
        expect(h.firstAfter(h.connected, 'a', false, cutAt), 'the cut device knows it is offline').to.not.equal(undefined)
        expect(deviceLogProblems(h, log), 'the log against the acknowledged Fires and batches').to.deep.equal([])
        expect(h.writes.filter((w) => w.outcome !== undefined && w.outcome !== 'ok').map((w) => `${w.id}: ${w.outcome}`), 'Fires and batches refused').to.deep.equal([])
        // A request begun before the heal that never ended would be a hang past its deadline.
        expect(h.requests.filter((r) => r.start < healedAt && r.end === undefined && r.path !== '/live').map((r) => `${r.process} ${r.method} ${r.path}`), 'requests never settled').to.deep.equal([])
        for (const r of h.requests) {
          // A live feed waits for its headers within callTimeoutMs, then for each line within
          // liveSilenceMs; a streamed read waits for each chunk within callTimeoutMs; any other
          // request gets its whole answer within callTimeoutMs.
          const what = `${r.process}'s ${r.method} ${r.path} at +${r.start - cutAt} ms (${r.outcome ?? 'open'})`
          if (r.path === '/live') {
            expect((r.headersAt ?? r.end ?? r.start) - r.start, what).to.be.at.most(CALL_MS + SLACK_MS)
            expect(r.longestWait, what).to.be.at.most(SILENCE_MS + SLACK_MS)
          } else if (r.method === 'GET' && r.path.endsWith('/events')) {
            expect(r.longestWait, what).to.be.at.most(CALL_MS + SLACK_MS)
          } else if (r.end !== undefined) {
            expect(r.end - r.start, what).to.be.at.most(CALL_MS + SLACK_MS)
          }
        }
        expect(liveAtCut, 'a live feed open at the cut').to.not.equal(undefined)
        expect(liveAtCut!.end! - Math.max(cutAt, liveAtCut!.lastChunk ?? liveAtCut!.headersAt!), 'the silent live feed dropped').to.be.at.most(SILENCE_MS + SLACK_MS)
        expect(noticed! - cutAt, 'Following false after the cut').to.be.at.most(SILENCE_MS + SLACK_MS)
        expect(back.connected! - healedAt, 'connected after heal').to.be.at.most(RECONNECT_MS + SLACK_MS)
        expect(back.live! - healedAt, 'live feed open after heal').to.be.at.most(RECONNECT_MS + SLACK_MS)
        expect(back.following! - healedAt, 'Following after heal').to.be.at.most(FOLLOWING_MS + SLACK_MS)
        expect(back.drained! - healedAt, 'drained after heal').to.be.at.most(drainMs(lostRaces) + SLACK_MS)
      })
    }
  })
}

/** Polls `predicate` every 50 ms (it parses whole histories); rejects after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
