import { expect } from 'chai'
import { CALL_MS, faultSuite, slowest, SLACK_MS, type Worker } from '../support/faults/faultSuite.js'
import { History, logProblems } from '../support/faults/History.js'
import { waitUntil } from '../support/processes.js'

// A LiveActor writer cut from its store mid-append for 8 s, while a second writer on the same
// actor keeps its link; the cut one sends a Fire that failed for want of an answer again with
// the same id (spec/support/workers/writerProbe.ts).

const CUT_MS = 8_000

faultSuite(
  (server) => `LiveActor writer cut from ${server} mid-append for ${CUT_MS / 1000} s`,
  90_000,
  'every call by its deadline, each event stored once after retries',
  async (c) => {
    const a = c.start('writerProbe', 'a', { behindLink: true })
    const b = c.start('writerProbe', 'b')
    const oks = (w: Worker, after = 0) => w.lines.filter((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= after).length
    await waitUntil(() => oks(a) >= 10 && oks(b) >= 10, 30_000, 'both writers to have fired')
    // Mid-append: the cut writer fires every ~20 ms, so one of its appends is in flight.
    const { healedAt } = await c.cutFor(CUT_MS)
    await waitUntil(() => oks(a, healedAt) >= 5 && oks(b, healedAt) >= 5, 2 * CALL_MS + SLACK_MS + 10_000, 'both writers to fire again after heal')
    const recovered = Math.min(...[a, b].map((w) => Number(w.lines.find((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= healedAt)!.split(' ')[3]))) - healedAt
    await c.stopWorkers()

    const h = new History({ a: a.lines, b: b.lines })
    const log = await c.read('tally')
    const failed = h.fires.filter((f) => f.outcome !== 'ok')
    c.show(
      `${failed.length} Fire attempts failed (${[...new Set(failed.map((f) => f.outcome))].join(', ')}); slowest store call ${slowest(h.calls)} ms, slowest Fire attempt ${slowest(h.fires)} ms; ` +
        `${h.acknowledged.length} events acknowledged, ${log.length} stored; writing again ${recovered} ms after heal`,
    )
    expect(h.calls.filter((call) => call.process === 'a' && call.outcome !== 'ok').length, 'the cut writer saw its calls fail').to.be.greaterThan(0)
    expect(logProblems(h, log), 'the log against the acknowledged Fires').to.deep.equal([])
    expect(log.map((e) => e.version)).to.deep.equal(log.map((_, i) => i + 1))
    for (const call of h.calls) expect(call.end - call.start, `${call.process}'s ${call.method} (${call.outcome})`).to.be.at.most(CALL_MS + SLACK_MS)
    // A Fire is its append, then, if that failed, the re-read that keeps the state the store's.
    for (const f of h.fires) expect(f.end - f.start, `Fire ${f.id} (${f.outcome})`).to.be.at.most(2 * CALL_MS + SLACK_MS)
  },
)
