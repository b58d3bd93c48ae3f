import { expect } from 'chai'
import { CALL_MS, faultSuite, slowest, SLACK_MS, type Worker } from '../support/faults/faultSuite.js'
import { History, logProblems } from '../support/faults/History.js'
import { Journal } from '../support/Journal.js'
import { waitUntil } from '../support/processes.js'

// A OneActor leader cut off from its store for 10 s (a partition: no answer, no RST), while a
// second process keeps its link. Both print their history (spec/support/workers/leaderProbe.ts).

const CUT_MS = 10_000
// After heal: the cut process's calls in flight end by their deadline, then one election round.
// (Measured well under it: it has stopped leading by then, and only needs its link back.)
const RECOVERY_MS = CALL_MS + Journal.leaseMs + Journal.renewEveryMs
// At most this long do two processes believe they lead at once (the lease's margin: leaseMs / 10).
const OVERLAP_MS = Journal.leaseMs / 10

faultSuite(
  (server) => `OneActor leader cut from ${server} for ${CUT_MS / 1000} s`,
  120_000,
  'bounded overlap and Fires, no lost or doubled event, one leader after heal',
  async (c) => {
    const a = c.start('leaderProbe', 'a', { behindLink: true })
    await waitUntil(() => a.lines.some((l) => l.startsWith('lead ')), 30_000, 'the process behind the link to lead')
    const b = c.start('leaderProbe', 'b')
    const oks = (w: Worker) => w.lines.filter((l) => l.startsWith('fire ') && l.includes(' ok ')).length
    await waitUntil(() => oks(a) >= 5 && oks(b) >= 5, 30_000, 'both processes to have fired')

    const { cutAt, healedAt } = await c.cutFor(CUT_MS)
    // Recovered: one leader, and each process has had a Fire acknowledged since the heal.
    const since = (w: Worker) => w.lines.some((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= healedAt)
    const history = () => new History({ a: a.lines, b: b.lines })
    await waitUntil(() => history().leadersNow().length === 1 && since(a) && since(b), RECOVERY_MS + SLACK_MS + 10_000, 'one leader and Fires on both sides after heal')
    const recoveredAt = Date.now()
    await c.stopWorkers()

    const h = history()
    const log = await c.read('journal')
    const overlap = h.overlapMs()
    const slowestCall = slowest(h.calls)
    const slowestLeaderFire = slowest(h.fires.filter((f) => f.asLeader))
    const slowestFire = slowest(h.fires)
    const aStopped = Math.min(...h.leaderships.filter((l) => l.process === 'a' && l.to > cutAt).map((l) => l.to))
    const bLed = Math.min(...h.leaderships.filter((l) => l.process === 'b').map((l) => l.from))
    c.show(
      `after the cut, the cut leader stopped leading at +${aStopped - cutAt} ms and the other led at +${bLed - cutAt} ms; overlap ${overlap} ms; slowest store call ${slowestCall} ms (${h.calls.length} calls); slowest leader Fire ${slowestLeaderFire} ms, slowest Fire ${slowestFire} ms; ` +
        `one leader ${h.oneLeaderFrom(healedAt)! - healedAt} ms and recovery ${recoveredAt - healedAt} ms after heal; ` +
        `leadership changes ${h.leaderships.length}; Fires ${h.acknowledged.length} acknowledged of ${h.fires.length}`,
    )
    expect(logProblems(h, log), 'the log against the acknowledged Fires').to.deep.equal([])
    for (const call of h.calls) expect(call.end - call.start, `${call.process}'s ${call.method} (${call.outcome})`).to.be.at.most(CALL_MS + SLACK_MS)
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
  },
)
