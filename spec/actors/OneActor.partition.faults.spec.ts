import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { History, logProblems } from '../support/faults/History.js'
import { Link } from '../support/faults/Link.js'
import { servers, through } from '../support/faults/servers.js'
import { Journal } from '../support/Journal.js'
import { startWorker, waitUntil } from '../support/processes.js'

// A OneActor leader cut off from its store for 10 s (a partition: no answer, no RST), while a
// second process keeps its link. Both print their history (spec/support/workers/leaderProbe.ts).

const CUT_MS = 10_000
// The stores' default deadline of one call (callTimeoutMs).
const CALL_MS = 5_000
// Slack for a loaded machine on top of each bound.
const SLACK_MS = 1_000
// After heal: the cut process's calls in flight end by their deadline, then one election round.
// (Measured well under it: it has stopped leading by then, and only needs its link back.)
const RECOVERY_MS = CALL_MS + Journal.leaseMs + Journal.renewEveryMs
// At most this long do two processes believe they lead at once (the lease's margin: leaseMs / 10).
const OVERLAP_MS = Journal.leaseMs / 10

type Worker = ReturnType<typeof startWorker>

for (const server of servers) {
  describe(`OneActor leader cut from ${server.name} for ${CUT_MS / 1000} s`, function () {
    this.timeout(120_000)
    if (!server.url) {
      it(`skipped: needs ${server.needs}`, function () {
        this.skip()
      })
      return
    }
    const url = server.url
    let workers: Worker[] = []
    let link: Link | undefined
    let namespace = ''
    beforeEach(() => (namespace = server.fresh()))
    afterEach(async () => {
      for (const w of workers) w.kill('SIGKILL')
      await Promise.all(workers.map((w) => w.exited))
      workers = []
      await link?.close()
      link = undefined
      await server.drop(namespace)
    })

    for (const kind of Link.kinds()) {
      it(`through a ${kind === 'namespace' ? 'network namespace whose link goes down' : 'TCP proxy that goes silent'}: bounded overlap and Fires, no lost or doubled event, one leader after heal`, async () => {
        const target = new URL(url)
        link = await Link.open(kind, { host: target.hostname, port: Number(target.port || server.defaultPort) })
        const a = startWorker('leaderProbe', [through(url, link.address), namespace, 'a'], link.command)
        workers.push(a)
        await waitUntil(() => a.lines.some((l) => l.startsWith('lead ')), 30_000, 'the process behind the link to lead')
        const b = startWorker('leaderProbe', [url, namespace, 'b'])
        workers.push(b)
        const oks = (w: Worker) => w.lines.filter((l) => l.startsWith('fire ') && l.includes(' ok ')).length
        await waitUntil(() => oks(a) >= 5 && oks(b) >= 5, 30_000, 'both processes to have fired')

        const cutAt = Date.now()
        link.cut()
        await new Promise((resolve) => setTimeout(resolve, CUT_MS))
        link.heal()
        const healedAt = Date.now()
        // Recovered: one leader, and each process has had a Fire acknowledged since the heal.
        const since = (w: Worker) => w.lines.some((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= healedAt)
        const history = () => new History({ a: a.lines, b: b.lines })
        await waitUntil(() => history().leadersNow().length === 1 && since(a) && since(b), RECOVERY_MS + SLACK_MS + 10_000, 'one leader and Fires on both sides after heal')
        const recoveredAt = Date.now()
        for (const w of workers) w.kill('SIGKILL')
        await Promise.all(workers.map((w) => w.exited))

        const h = history()
        const store = server.open(url, namespace)
        let log: EventEnvelope[]
        try {
          log = await collect(store.readStream('journal'))
        } finally {
          await store.close()
        }
        const overlap = h.overlapMs()
        const slowest = (records: ReadonlyArray<{ start: number; end: number }>) => Math.max(0, ...records.map((r) => r.end - r.start))
        const slowestCall = slowest(h.calls)
        const slowestLeaderFire = slowest(h.fires.filter((f) => f.asLeader))
        const slowestFire = slowest(h.fires)
        const aStopped = Math.min(...h.leaderships.filter((l) => l.process === 'a' && l.to > cutAt).map((l) => l.to))
        const bLed = Math.min(...h.leaderships.filter((l) => l.process === 'b').map((l) => l.from))
        if (process.env['SHOW_FAULTS'] || process.env['CI']) {
          console.log(
            `      ${server.name}/${kind}: after the cut, the cut leader stopped leading at +${aStopped - cutAt} ms and the other led at +${bLed - cutAt} ms; overlap ${overlap} ms; slowest store call ${slowestCall} ms (${h.calls.length} calls); slowest leader Fire ${slowestLeaderFire} ms, slowest Fire ${slowestFire} ms; ` +
              `one leader ${h.oneLeaderFrom(healedAt)! - healedAt} ms and recovery ${recoveredAt - healedAt} ms after heal; ` +
              `leadership changes ${h.leaderships.length}; Fires ${h.acknowledged.length} acknowledged of ${h.fires.length}`,
          )
        }
        expect(logProblems(h, log), 'the log against the acknowledged Fires').to.deep.equal([])
        for (const c of h.calls) expect(c.end - c.start, `${c.process}'s ${c.method} (${c.outcome})`).to.be.at.most(CALL_MS + SLACK_MS)
        // A leader's Fire is its append, then, if that failed, the re-read of the stream that
        // keeps the actor's state the store's: two calls. A commit begun after the lease expired
        // here is refused at once, so one ahead of it in the mailbox adds nothing past that. A
        // follower's Fire is a proposal: its append, then the wait for the leader
        // (proposalTimeoutMs).
        for (const f of h.fires) {
          const bound = (f.asLeader ? 2 * CALL_MS : CALL_MS + Journal.proposalTimeoutMs) + SLACK_MS
          expect(f.end - f.start, `Fire ${f.id} (${f.asLeader ? 'as leader' : 'as follower'}, ${f.outcome})`).to.be.at.most(bound)
        }
        expect(h.leadersNow(), 'one leader after heal').to.have.length(1)
        expect(recoveredAt - healedAt, 'recovery after heal').to.be.at.most(RECOVERY_MS + SLACK_MS)
        expect(overlap, 'two processes believing they lead at once').to.be.at.most(OVERLAP_MS)
      })
    }
  })
}
