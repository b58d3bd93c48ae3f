import { expect } from 'chai'
import type { TickData } from 'omniscient-actors'
import { CALL_MS, faultSuite, slowest, SLACK_MS, type Worker } from '../support/faults/faultSuite.js'
import { History, logProblems } from '../support/faults/History.js'
import { Metronome } from '../support/Metronome.js'
import { waitUntil } from '../support/processes.js'

// A TickActor leader cut off from its store for 10 s (a partition: no answer, no RST), while a
// second process on the same id keeps its link. Both print their leadership, the ticks they
// fire and apply, and their store calls (spec/support/workers/tickProbe.ts).

const CUT_MS = 10_000
// Metronome keeps OneActor's default lease (docs/leadership.md): leaseMs, renewEveryMs = leaseMs / 4,
// leaseMarginMs = leaseMs / 10.
const LEASE_MS = 2_000
const RENEW_EVERY_MS = LEASE_MS / 4
const MARGIN_MS = LEASE_MS / 10
const RESOLUTION_MS = Metronome.resolution
// The cut leader's last renewal began before the cut: it stops leading by its clock within this.
const STOPS_MS = LEASE_MS - MARGIN_MS
// The store's lease ends within leaseMs of the cut, the other process takes it at its next try,
// and its first tick is due at once (the last one fired before the cut) or one resolution later.
const TAKEOVER_MS = LEASE_MS + RENEW_EVERY_MS + RESOLUTION_MS
// After heal: the cut process's calls in flight end by their deadline, then one election round.
const RECOVERY_MS = CALL_MS + LEASE_MS + RENEW_EVERY_MS

const ok = (l: string) => l.startsWith('fire ') && l.includes(' ok ')
const field = (l: string, i: number) => Number(l.split(' ')[i])

faultSuite(
  (server) => `TickActor leader cut from ${server} for ${CUT_MS / 1000} s`,
  120_000,
  'ticks only while it believes it leads, the other takes over, ticks 1..n once each, one leader after heal',
  async (c) => {
    const a = c.start('tickProbe', 'a', { behindLink: true })
    await waitUntil(() => a.lines.filter(ok).length >= 5, 30_000, 'the process behind the link to lead and tick')
    const b = c.start('tickProbe', 'b')
    // Past its load, b applies the ticks a fires.
    const appliedLive = (w: Worker) => w.lines.slice(w.lines.indexOf('ready') + 1).some((l) => l.startsWith('apply '))
    await waitUntil(() => b.lines.includes('ready') && appliedLive(b), 30_000, 'the other process to follow the ticks')
    const history = () => new History({ a: a.lines, b: b.lines })
    expect(history().leadersNow(), 'the leader before the cut').to.deep.equal(['a'])

    const { cutAt, healedAt } = await c.cutFor(CUT_MS)
    // Recovered: one leader that ticks, and the cut process applies those ticks again.
    const applies = (w: Worker, from: number) => w.lines.some((l) => l.startsWith('apply ') && field(l, 2) >= from)
    const firesSince = (from: number) => [...a.lines, ...b.lines].some((l) => ok(l) && field(l, 2) >= from)
    await waitUntil(() => history().leadersNow().length === 1 && firesSince(healedAt) && applies(a, healedAt) && applies(b, healedAt), RECOVERY_MS + SLACK_MS + 10_000, 'one leader ticking, and both processes applying its ticks, after heal')
    const recoveredAt = Date.now()
    await c.stopWorkers()

    const h = history()
    const log = await c.read('metronome')
    const ticks = log.map((e) => e.data as TickData)
    const leadershipAt = (process: string, t: number) => h.leaderships.find((l) => l.process === process && l.from <= t && t < l.to)
    const aStopped = Math.min(...h.leaderships.filter((l) => l.process === 'a' && l.to > cutAt).map((l) => l.to))
    const aFires = h.fires.filter((f) => f.process === 'a' && f.start >= cutAt - RESOLUTION_MS && f.start < healedAt)
    const aLastFire = Math.max(0, ...h.fires.filter((f) => f.process === 'a' && f.start < aStopped).map((f) => f.start))
    const bLed = Math.min(...h.leaderships.filter((l) => l.process === 'b').map((l) => l.from))
    const bTicked = Math.min(...h.acknowledged.filter((f) => f.process === 'b' && f.start >= cutAt).map((f) => f.start))
    const gaps = ticks.slice(1).map((t, i) => t.firedAt - ticks[i]!.firedAt)
    const failed = h.fires.filter((f) => f.outcome !== 'ok')
    c.show(
      `after the cut, the cut leader's last tick went out at +${aLastFire - cutAt} ms and it stopped leading at +${aStopped - cutAt} ms; the other led at +${bLed - cutAt} ms and ticked at +${bTicked - cutAt} ms; ` +
        `ticks ${ticks.length} stored (1..${ticks.at(-1)?.tick}), ${h.acknowledged.filter((f) => f.process === 'a').length} by the cut process, ${h.acknowledged.filter((f) => f.process === 'b').length} by the other; ` +
        `tick appends failed ${failed.length} (${[...new Set(failed.map((f) => f.outcome))].join(', ')}); longest gap between ticks ${Math.max(0, ...gaps)} ms, shortest ${Math.min(...gaps)} ms; overlap ${h.overlapMs()} ms; ` +
        `slowest store call ${slowest(h.calls)} ms (${h.calls.length} calls); one leader ${h.oneLeaderFrom(healedAt)! - healedAt} ms and recovery ${recoveredAt - healedAt} ms after heal; leadership changes ${h.leaderships.length}`,
    )

    // Ticks go out only under a believed leadership: none from the cut leader after it stopped.
    for (const f of h.fires) expect(leadershipAt(f.process, f.start), `tick ${f.id} sent by ${f.process} at ${f.start} (${f.outcome}) while it believed it led`).to.not.equal(undefined)
    for (const f of aFires) expect(f.start, `the cut leader's tick ${f.id}`).to.be.below(aStopped)
    for (const [process, w] of Object.entries({ a, b })) {
      for (const l of w.lines.filter((line) => line.startsWith('fire '))) {
        const firedAt = Number(l.split(' ').at(-1))
        expect(leadershipAt(process, firedAt), `${process}'s ${l.split(' ')[1]}, fired at ${firedAt}, while it believed it led`).to.not.equal(undefined)
      }
    }
    expect(aStopped - cutAt, 'the cut leader stopped leading').to.be.at.most(STOPS_MS + SLACK_MS)
    expect(bTicked - cutAt, 'the other process ticks').to.be.at.most(TAKEOVER_MS + SLACK_MS)
    // The log: each tick once, numbered without gap, ids from the numbers, terms never going back.
    expect(logProblems(h, log), 'the log against the acknowledged ticks').to.deep.equal([])
    expect(ticks.map((t) => t.tick)).to.deep.equal(log.map((_, i) => i + 1))
    expect(log.map((e) => e.id)).to.deep.equal(log.map((_, i) => `tick/Metronome/metronome/${i + 1}`))
    for (const gap of gaps) expect(gap, 'time between ticks').to.be.at.least(RESOLUTION_MS)
    expect(h.overlapMs(), 'two processes believing they lead at once').to.be.at.most(MARGIN_MS)
    for (const call of h.calls) expect(call.end - call.start, `${call.process}'s ${call.method} (${call.outcome})`).to.be.at.most(CALL_MS + SLACK_MS)
    expect(h.leadersNow(), 'one leader after heal').to.have.length(1)
    expect(recoveredAt - healedAt, 'recovery after heal').to.be.at.most(RECOVERY_MS + SLACK_MS)
  },
)
