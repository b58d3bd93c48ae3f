import { faultSuite } from '../support/faults/faultSuite.js'
import { leaderThroughFault } from '../support/faults/leaderThroughFault.js'
import { Namespace } from '../support/faults/Namespace.js'

// A OneActor leader whose link to its store fails, while a second process keeps its link. Both
// print their history (spec/support/workers/leaderProbe.ts); spec/support/faults/
// leaderThroughFault.ts checks it.

// Cut for 10 s: a partition, no answer, no RST.
const CUT_MS = 10_000

faultSuite(
  (server) => `OneActor leader cut from ${server} for ${CUT_MS / 1000} s`,
  120_000,
  'bounded overlap and Fires, no lost or doubled event, one leader after heal',
  (c) => leaderThroughFault({ ...c, faultFor: (ms) => c.cutFor(ms) }, { ms: CUT_MS, deposes: true }),
)

// Slow and lossy for 10 s: every chunk held 300 ms each way, and where the kernel's packets can
// be dropped (a namespace, nftables), one in five of them lost. Renewals then take longer than
// the lease allows, so the leader may lose the lease (or keep it between bad stretches): either
// way, never two leaders at once and no Fire past its deadline.
const SLOW_MS = 10_000
const DELAY_MS = 300
const LOSS_PERCENT = 20

faultSuite(
  (server) => `OneActor leader on a slow, lossy link to ${server} for ${SLOW_MS / 1000} s`,
  120_000,
  'bounded overlap and Fires, no lost or doubled event, one leader after',
  (c) => {
    const lossPercent = c.kind === 'namespace' && Namespace.canLose() ? LOSS_PERCENT : 0
    return leaderThroughFault(
      {
        ...c,
        async faultFor(ms) {
          const cutAt = Date.now()
          c.link.degrade({ delayMs: DELAY_MS, lossPercent })
          await new Promise((resolve) => setTimeout(resolve, ms))
          c.link.restore()
          return { cutAt, healedAt: Date.now() }
        },
      },
      // Held data keeps arriving 300 ms late for a moment after the link is restored.
      { ms: SLOW_MS, deposes: false },
    )
  },
  {
    linkTitle: (kind) =>
      kind === 'namespace'
        ? `through a network namespace, ${DELAY_MS} ms each way${Namespace.canLose() ? ` and ${LOSS_PERCENT}% of packets dropped` : ' (packets not dropped: no nft)'}`
        : `through a TCP proxy holding each chunk ${DELAY_MS} ms each way`,
  },
)
