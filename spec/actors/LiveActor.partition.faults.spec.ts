import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { collect } from '../store/conformance.js'
import { History, logProblems } from '../support/faults/History.js'
import { Link } from '../support/faults/Link.js'
import { servers, through } from '../support/faults/servers.js'
import { startWorker, waitUntil } from '../support/processes.js'

// A LiveActor writer cut from its store mid-append for 8 s, while a second writer on the same
// actor keeps its link; the cut one sends a Fire that failed for want of an answer again with
// the same id (spec/support/workers/writerProbe.ts).

const CUT_MS = 8_000
// The stores' default deadline of one call (callTimeoutMs), and slack for a loaded machine.
const CALL_MS = 5_000
const SLACK_MS = 1_000

type Worker = ReturnType<typeof startWorker>

for (const server of servers) {
  describe(`LiveActor writer cut from ${server.name} mid-append for ${CUT_MS / 1000} s`, function () {
    this.timeout(90_000)
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
      it(`through a ${kind === 'namespace' ? 'network namespace whose link goes down' : 'TCP proxy that goes silent'}: every call by its deadline, each event stored once after retries`, async () => {
        const target = new URL(url)
        link = await Link.open(kind, { host: target.hostname, port: Number(target.port || server.defaultPort) })
        const a = startWorker('writerProbe', [through(url, link.address), namespace, 'a'], link.command)
        const b = startWorker('writerProbe', [url, namespace, 'b'])
        workers.push(a, b)
        const oks = (w: Worker, after = 0) => w.lines.filter((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= after).length
        await waitUntil(() => oks(a) >= 10 && oks(b) >= 10, 30_000, 'both writers to have fired')
        // Mid-append: the cut writer fires every ~20 ms, so one of its appends is in flight.
        link.cut()
        await new Promise((resolve) => setTimeout(resolve, CUT_MS))
        link.heal()
        const healedAt = Date.now()
        await waitUntil(() => oks(a, healedAt) >= 5 && oks(b, healedAt) >= 5, 2 * CALL_MS + SLACK_MS + 10_000, 'both writers to fire again after heal')
        const recovered = Math.min(...[a, b].map((w) => Number(w.lines.find((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= healedAt)!.split(' ')[3]))) - healedAt
        for (const w of workers) w.kill('SIGKILL')
        await Promise.all(workers.map((w) => w.exited))

        const h = new History({ a: a.lines, b: b.lines })
        const store = server.open(url, namespace)
        let log: EventEnvelope[]
        try {
          log = await collect(store.readStream('tally'))
        } finally {
          await store.close()
        }
        const failed = h.fires.filter((f) => f.outcome !== 'ok')
        const slowest = (records: ReadonlyArray<{ start: number; end: number }>) => Math.max(0, ...records.map((r) => r.end - r.start))
        if (process.env['SHOW_FAULTS'] || process.env['CI']) {
          console.log(
            `      ${server.name}/${kind}: ${failed.length} Fire attempts failed (${[...new Set(failed.map((f) => f.outcome))].join(', ')}); slowest store call ${slowest(h.calls)} ms, slowest Fire attempt ${slowest(h.fires)} ms; ` +
              `${h.acknowledged.length} events acknowledged, ${log.length} stored; writing again ${recovered} ms after heal`,
          )
        }
        expect(h.calls.filter((c) => c.process === 'a' && c.outcome !== 'ok').length, 'the cut writer saw its calls fail').to.be.greaterThan(0)
        expect(logProblems(h, log), 'the log against the acknowledged Fires').to.deep.equal([])
        expect(log.map((e) => e.version)).to.deep.equal(log.map((_, i) => i + 1))
        for (const c of h.calls) expect(c.end - c.start, `${c.process}'s ${c.method} (${c.outcome})`).to.be.at.most(CALL_MS + SLACK_MS)
        // A Fire is its append, then, if that failed, the re-read that keeps the state the store's.
        for (const f of h.fires) expect(f.end - f.start, `Fire ${f.id} (${f.outcome})`).to.be.at.most(2 * CALL_MS + SLACK_MS)
      })
    }
  })
}
