import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { Journal } from '../Journal.js'
import { waitUntil } from '../processes.js'
import { CALL_MS, slowest, SLACK_MS, type FaultCase, type Worker } from './faultSuite.js'
import { History, logProblems } from './History.js'

/** When a fault began and ended, and when the store could take the other process's writes. */
export interface FaultTimes {
  readonly cutAt: number
  readonly healedAt: number
  /** During the fault, when the other process's server took writes again (default: the cut; one server never stops). */
  readonly writableAt?: number
  /** After the fault, when the store took writes again (default: the heal). */
  readonly settledAt?: number
}

/** What the leader scenario needs of a case: two probes, one behind the fault, and the fault. */
export type LeaderCase = Pick<FaultCase, 'start' | 'stopWorkers' | 'read' | 'show'> & {
  /** Applies the fault to the link of the probe behind it for `ms`, then lifts it. */
  faultFor(ms: number): Promise<FaultTimes>
}

export interface LeaderFault {
  readonly ms: number
  /** Whether the probe behind the fault must have stopped leading (a cut: yes; a slow link: maybe). */
  readonly deposes: boolean
  /** The longest a store call may take, deadline included (default CALL_MS). */
  readonly callMs?: number
}

// At most this long do two processes believe they lead at once (the lease's margin: leaseMs / 10).
const OVERLAP_MS = Journal.leaseMs / 10

/**
 * Two OneActor probes (spec/support/workers/leaderProbe.ts) on one id; the one behind the fault
 * leads when the fault comes. Checks the recorded history against the log: no acknowledged
 * event lost or doubled, terms never going back, every call and Fire within its deadline,
 * believed leadership overlapping by at most the lease's margin, and one leader with Fires on
 * both sides within the recovery bound after the fault ends.
 */
export async function leaderThroughFault(c: LeaderCase, fault: LeaderFault): Promise<void> {
  const callMs = fault.callMs ?? CALL_MS
  // From the store taking writes again after the fault: a call of the cut process's in flight
  // ends by its deadline, then one election round.
  const recoveryMs = callMs + Journal.leaseMs + Journal.renewEveryMs
  const a = c.start('leaderProbe', 'a', { behindLink: true })
  await waitUntil(() => a.lines.some((l) => l.startsWith('lead ')), 30_000, 'the process behind the link to lead')
  const b = c.start('leaderProbe', 'b')
  const oks = (w: Worker) => w.lines.filter((l) => l.startsWith('fire ') && l.includes(' ok ')).length
  await waitUntil(() => oks(a) >= 5 && oks(b) >= 5, 30_000, 'both processes to have fired')

  const { cutAt, healedAt, writableAt = cutAt, settledAt = healedAt } = await c.faultFor(fault.ms)
  // Recovered: one leader, and each process has had a Fire acknowledged since the heal.
  const since = (w: Worker) => w.lines.some((l) => l.startsWith('fire ') && l.includes(' ok ') && Number(l.split(' ')[2]) >= healedAt)
  const history = () => new History({ a: a.lines, b: b.lines })
  await waitUntil(() => history().leadersNow().length === 1 && since(a) && since(b), settledAt - healedAt + recoveryMs + SLACK_MS + 10_000, 'one leader and Fires on both sides after heal')
  .catch((err: unknown) => {
    // What each process saw, to tell why: its whole history in a file, the last of it shown.
    if (process.env['SHOW_FAULTS'] || process.env['CI']) {
      const file = join(tmpdir(), `fault-history-${Date.now()}.txt`)
      writeFileSync(file, [`cut ${cutAt} healed ${healedAt} settled ${settledAt}`, ...a.lines.map((l) => `a ${l}`), ...b.lines.map((l) => `b ${l}`)].join('\n'))
      for (const [n, w] of [['a', a], ['b', b]] as const) console.log(n, w.lines.filter((l) => !l.startsWith('call ') || !l.endsWith(' ok')).slice(-25).join('\n'))
      console.log(`      the whole history: ${file}`)
    }
    throw err
  })
  const recoveredAt = Date.now()
  await c.stopWorkers()

  const h = history()
  const log = await c.read('journal')
  const overlap = h.overlapMs()
  const aStopped = Math.min(...h.leaderships.filter((l) => l.process === 'a' && l.to > cutAt).map((l) => l.to))
  const bLed = Math.min(...h.leaderships.filter((l) => l.process === 'b').map((l) => l.from))
  const failed = h.calls.filter((call) => call.outcome !== 'ok').length
  c.show(
    `after the fault began, the leader behind it stopped leading at +${aStopped - cutAt} ms and the other led at +${bLed - cutAt} ms; overlap ${overlap} ms; slowest store call ${slowest(h.calls)} ms (${h.calls.length} calls, ${failed} failed); ` +
      `slowest leader Fire ${slowest(h.fires.filter((f) => f.asLeader))} ms, slowest Fire ${slowest(h.fires)} ms; ` +
      (writableAt > cutAt ? `its server took writes again at +${writableAt - cutAt} ms; ` : '') +
      `one leader ${h.oneLeaderFrom(healedAt)! - healedAt} ms and recovery ${recoveredAt - healedAt} ms after the fault${settledAt > healedAt ? ` (the store took writes again at +${settledAt - healedAt} ms)` : ''}; ` +
      `leadership changes ${h.leaderships.length}; Fires ${h.acknowledged.length} acknowledged of ${h.fires.length}`,
  )
  expect(logProblems(h, log), 'the log against the acknowledged Fires').to.deep.equal([])
  for (const call of h.calls) expect(call.end - call.start, `${call.process}'s ${call.method} (${call.outcome})`).to.be.at.most(callMs + SLACK_MS)
  // A leader's Fire is its append, then, if that failed, the re-read of the stream that keeps
  // the actor's state the store's: two calls. A commit begun after the lease expired here is
  // refused at once, so one ahead of it in the mailbox adds nothing past that. A follower's
  // Fire is a proposal: its append, then the wait for the leader (proposalTimeoutMs).
  for (const f of h.fires) {
    const bound = (f.asLeader ? 2 * callMs : callMs + Journal.proposalTimeoutMs) + SLACK_MS
    expect(f.end - f.start, `Fire ${f.id} (${f.asLeader ? 'as leader' : 'as follower'}, ${f.outcome})`).to.be.at.most(bound)
  }
  if (fault.deposes) {
    expect(aStopped - cutAt, 'the leader behind the fault stopped leading within its lease').to.be.at.most(Journal.leaseMs + SLACK_MS)
    // Once the lease has expired and the other's server takes writes, one call (in flight,
    // ending by its deadline) and one round of the lease keeper.
    const takeoverBy = writableAt > cutAt ? writableAt + callMs + Journal.renewEveryMs : cutAt + Journal.leaseMs + Journal.renewEveryMs
    expect(bLed - takeoverBy, 'the other process leading, past its bound').to.be.at.most(SLACK_MS)
  }
  expect(h.leadersNow(), 'one leader after heal').to.have.length(1)
  expect(recoveredAt - settledAt, 'recovery once the store takes writes after heal').to.be.at.most(recoveryMs + SLACK_MS)
  expect(overlap, 'two processes believing they lead at once').to.be.at.most(OVERLAP_MS)
}
