import type { EventEnvelope } from 'omniscient-actors'
import { collect } from '../../store/conformance.js'
import { killWorkers, startWorker } from '../processes.js'
import { Link, type LinkKind } from './Link.js'
import { servers as allServers, through, type ServerKind } from './servers.js'

/** The stores' default deadline of one call (callTimeoutMs). */
export const CALL_MS = 5_000
/** Slack for a loaded machine on top of each bound. */
export const SLACK_MS = 1_000

export type Worker = ReturnType<typeof startWorker>

/** What one case of a fault suite gets: its server, a fresh namespace on it, and an open link. */
export interface FaultCase {
  readonly server: ServerKind
  readonly url: string
  readonly namespace: string
  readonly kind: LinkKind
  readonly link: Link
  /**
   * Starts a worker from spec/support/workers with `<url> <namespace> <label> ...args`; with
   * `behindLink` it runs behind the link (the URL through it, inside its namespace). The suite
   * kills it after the case.
   */
  start(worker: string, label: string, options?: { behindLink?: boolean; args?: readonly string[] }): Worker
  /** Kills every worker started and waits for them to exit. */
  stopWorkers(): Promise<void>
  /** Cuts the link for `ms`, then heals it; the instants by this process's clock. */
  cutFor(ms: number): Promise<{ cutAt: number; healedAt: number }>
  /** The stream as the store holds it, read through a store of this process's own. */
  read(stream: string): Promise<EventEnvelope[]>
  /** Prints one line of figures (indented, named by server and link) when SHOW_FAULTS or CI is set. */
  show(figures: string): void
}

export interface SuiteOptions {
  /** The servers to run against (default: PostgreSQL and RethinkDB, each when its URL is given). */
  readonly servers?: readonly ServerKind[]
  /** How a case's title names the link and what happens to it (default: it is cut). */
  readonly linkTitle?: (kind: LinkKind) => string
}

function cutLinkTitle(kind: LinkKind): string {
  return `through a ${kind === 'namespace' ? 'network namespace whose link goes down' : 'TCP proxy that goes silent'}`
}

/**
 * A fault spec's cases against every store server whose URL is given (a skipped case names what
 * to set for the others), once per link kind this machine allows: `title` names the describe for
 * a server, `should` ends each case's title after its link kind, and `scenario` is the case.
 *
 * @example
 * faultSuite((server) => `OneActor leader cut from ${server} for 10 s`, 120_000, 'one leader after heal', async (c) => {
 *   const a = c.start('leaderProbe', 'a', { behindLink: true })
 *   ...
 * })
 */
export function faultSuite(title: (server: string) => string, timeoutMs: number, should: string, scenario: (c: FaultCase) => Promise<void>, options: SuiteOptions = {}): void {
  const { servers = allServers, linkTitle = cutLinkTitle } = options
  for (const server of servers) {
    describe(title(server.name), function () {
      this.timeout(timeoutMs)
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
        await killWorkers(workers)
        workers = []
        await link?.close()
        link = undefined
        await server.drop(namespace)
      })

      for (const kind of Link.kinds()) {
        it(`${linkTitle(kind)}: ${should}`, async () => {
          const target = new URL(url)
          const opened = await Link.open(kind, { host: target.hostname, port: Number(target.port || server.defaultPort) })
          link = opened
          await scenario({
            server,
            url,
            namespace,
            kind,
            link: opened,
            start(worker, label, options = {}) {
              const w = options.behindLink
                ? startWorker(worker, [through(url, opened.address), namespace, label, ...(options.args ?? [])], opened.command)
                : startWorker(worker, [url, namespace, label, ...(options.args ?? [])])
              workers.push(w)
              return w
            },
            async stopWorkers() {
              await killWorkers(workers)
            },
            async cutFor(ms) {
              const cutAt = Date.now()
              opened.cut()
              await new Promise((resolve) => setTimeout(resolve, ms))
              opened.heal()
              return { cutAt, healedAt: Date.now() }
            },
            async read(stream) {
              const store = server.open(url, namespace)
              try {
                return await collect(store.readStream(stream))
              } finally {
                await store.close()
              }
            },
            show(figures) {
              if (process.env['SHOW_FAULTS'] || process.env['CI']) console.log(`      ${server.name}/${kind}: ${figures}`)
            },
          })
        })
      }
    })
  }
}

/** The longest of the records' durations, in ms (0 if none). */
export function slowest(records: ReadonlyArray<{ start: number; end: number }>): number {
  return Math.max(0, ...records.map((r) => r.end - r.start))
}
