import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { collect } from '../store/conformance.js'
import type { Worker } from '../support/faults/faultSuite.js'
import { leaderThroughFault } from '../support/faults/leaderThroughFault.js'
import { RethinkCluster } from '../support/faults/RethinkCluster.js'
import { killWorkers, startWorker } from '../support/processes.js'
import { freshPrefix } from '../support/rethinkdb.js'

// A OneActor leader on a three-node RethinkDB cluster whose server is split from the other two:
// the leader's process still reaches its server (both are in the namespace that is cut), but
// that server is in the minority and holds the tables' primaries, so nothing it is asked to
// write can be acknowledged, while the other process's server has to fail over before it can
// write. Every table has three replicas and the default majority write acknowledgement.

// RethinkDB's default heartbeat (10 s) before the majority even notices: it takes writes
// again some 17 s after the cut here, and the bounds count from when it does (watched below).
const CUT_MS = 25_000

describe(`OneActor leader on a RethinkDB cluster node split from the other two for ${CUT_MS / 1000} s`, function () {
  this.timeout(240_000)
  if (!RethinkCluster.available()) {
    it('skipped: needs RETHINKDB_BIN (a rethinkdb binary) and network namespaces (root, ip)', function () {
      this.skip()
    })
    return
  }
  let cluster: RethinkCluster | undefined
  let workers: Worker[] = []
  const stopWorkers = () => killWorkers(workers)
  before(async () => (cluster = await RethinkCluster.start()))
  afterEach(async () => {
    await stopWorkers()
    workers = []
    cluster?.heal()
  })
  after(async () => cluster?.close())

  it('the majority fails over; bounded overlap and Fires, no lost or doubled event, one leader after heal', async () => {
    const c = cluster!
    const prefix = freshPrefix()
    const setUp = new RethinkStore({ url: c.majorityUrl, tablePrefix: prefix, replicas: 3 })
    await setUp.streamVersion('journal')
    await setUp.close()
    await c.placeTables(prefix)
    await leaderThroughFault(
      {
        start(worker, label, options = {}) {
          const args = [options.behindLink ? c.minorityUrl : c.majorityUrl, prefix, label, ...(options.args ?? [])]
          const w = startWorker(worker, args, options.behindLink ? c.namespace.command : [])
          workers.push(w)
          return w
        },
        stopWorkers,
        async faultFor(ms) {
          const watch = c.watchWritable(`${prefix}leases`)
          const cutAt = Date.now()
          c.cut()
          await new Promise((resolve) => setTimeout(resolve, ms))
          c.heal()
          const healedAt = Date.now()
          // The configured primary returns to the rejoined server: a moment without writes again.
          await new Promise((resolve) => setTimeout(resolve, 5_000))
          const changes = await watch.stop()
          const writableAt = changes.find((w) => w.writable && w.at > cutAt && w.at < healedAt)?.at
          expect(writableAt, "the majority's server took writes again during the cut").to.be.a('number')
          const lastOutage = changes.filter((w) => !w.writable && w.at >= healedAt).at(-1)
          const settledAt = lastOutage ? changes.find((w) => w.writable && w.at > lastOutage.at)?.at : healedAt
          return { cutAt, healedAt, writableAt: writableAt!, settledAt: settledAt ?? Date.now() }
        },
        async read(stream) {
          const store = new RethinkStore({ url: c.majorityUrl, tablePrefix: prefix })
          try {
            return await collect<EventEnvelope>(store.readStream(stream))
          } finally {
            await store.close()
          }
        },
        show(figures) {
          if (process.env['SHOW_FAULTS'] || process.env['CI']) console.log(`      RethinkStore/3-node cluster: ${figures}`)
        },
      },
      { ms: CUT_MS, deposes: true },
    )
  })
})
