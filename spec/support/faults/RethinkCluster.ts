import { r, type RDatum } from 'rethinkdb-ts'
import { RETHINKDB_BIN, ThrowawayRethink } from '../rethinkServer.js'
import { tempDir } from '../tmp.js'
import { Namespace } from './Namespace.js'

const DB = 'omniscient_test'
const NAMES = ['node_a', 'node_b', 'node_c'] as const

/**
 * Three RethinkDB servers in one cluster, of which `node_a` lives in a network namespace of its
 * own: `cut()` takes that namespace's link down, which splits the cluster into `node_a` alone
 * (with any client process run in the namespace, which still reaches it) and the majority,
 * `node_b` and `node_c`, on the host. Needs a rethinkdb binary (RETHINKDB_BIN) and namespaces.
 *
 * @example
 * const cluster = await RethinkCluster.start()
 * await cluster.placeTables(prefix) // three replicas, primaries on node_a
 * spawn(...cluster.namespace.command, 'node', 'client.js', cluster.minorityUrl)
 * cluster.cut(); ...; cluster.heal(); await cluster.close()
 */
export class RethinkCluster {
  private constructor(
    readonly namespace: Namespace,
    private readonly nodes: readonly [ThrowawayRethink, ThrowawayRethink, ThrowawayRethink],
    private readonly removeDirs: () => void,
  ) {}

  /** Whether this machine can run one: a rethinkdb binary and network namespaces. */
  static available(): boolean {
    return Boolean(RETHINKDB_BIN) && Namespace.available()
  }

  static async start(): Promise<RethinkCluster> {
    const tmp = tempDir('omniscient-cluster-')
    const ns = Namespace.create()
    const started: ThrowawayRethink[] = []
    try {
      // node_a listens inside the namespace (its loopback for clients there, its link address
      // for its peers); the others on the host, reached from the namespace at the link's host end.
      const a = await ThrowawayRethink.start(`${tmp.dir}/a`, { prefix: ns.command, bind: ['all'], canonical: [ns.address], serverName: NAMES[0] })
      started.push(a)
      const join = [`${ns.address}:${a.clusterPort}`]
      for (const [i, name] of [[1, NAMES[1]], [2, NAMES[2]]] as const) {
        started.push(await ThrowawayRethink.start(`${tmp.dir}/${i}`, { bind: ['all'], canonical: [ns.hostAddress], join, serverName: name }))
      }
      const cluster = new RethinkCluster(ns, started as [ThrowawayRethink, ThrowawayRethink, ThrowawayRethink], tmp.remove)
      await cluster.query(async (c) => {
        for (let tries = 0; (await r.db('rethinkdb').table('server_status').count().run(c)) < 3; tries++) {
          if (tries > 200) throw new Error('the three servers did not see each other within 20 s')
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })
      return cluster
    } catch (err) {
      await Promise.all(started.map((s) => s.kill()))
      ns.dispose()
      tmp.remove()
      throw err
    }
  }

  /** node_a's URL for a client inside the namespace: cut off with it, from the majority. */
  get minorityUrl(): string {
    return `rethinkdb://127.0.0.1:${this.nodes[0].port}/${DB}`
  }

  /** node_b's URL for a client on the host: on the majority's side of a cut. */
  get majorityUrl(): string {
    return `rethinkdb://127.0.0.1:${this.nodes[1].port}/${DB}`
  }

  /**
   * Gives every table of `prefix` three replicas with its primary on `node_a`, and waits until
   * all are ready: the cut then takes the primaries into the minority, so that the majority has
   * to fail over before it can write.
   */
  async placeTables(prefix: string): Promise<void> {
    await this.query(async (c) => {
      const tables = r.db('rethinkdb').table('table_config').filter((t: RDatum) => t('db').eq(DB).and(t('name').match(`^${prefix}`).ne(null)))
      await tables.update({ shards: [{ primary_replica: NAMES[0], replicas: [...NAMES], nonvoting_replicas: [] }] }).run(c)
      await r.db(DB).wait({ waitFor: 'all_replicas_ready', timeout: 60 }).run(c)
    })
  }

  /**
   * Watches, from node_b, whether `table` takes writes (its `ready_for_writes` status, asked
   * every 100 ms, an answer later than 500 ms counting as no): `stop()` gives each change with
   * the instant it was seen.
   */
  watchWritable(table: string): { stop(): Promise<Array<{ at: number; writable: boolean }>> } {
    const changes: Array<{ at: number; writable: boolean }> = []
    let stopped = false
    const watching = this.query(async (c) => {
      while (!stopped) {
        const asked = r.db(DB).table(table).status()('status')('ready_for_writes').run(c)
        const writable = await Promise.race([asked.catch(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))])
        if (changes.at(-1)?.writable !== writable) changes.push({ at: Date.now(), writable })
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })
    return {
      async stop() {
        stopped = true
        await watching
        return changes
      },
    }
  }

  /** Splits node_a (and the namespace's processes) from the other two. */
  cut(): void {
    this.namespace.cut()
  }

  heal(): void {
    this.namespace.heal()
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()))
    this.namespace.dispose()
    this.removeDirs()
  }

  /** Set-up and clean-up only, through node_b. */
  private async query<T>(work: (c: Awaited<ReturnType<typeof r.connect>>) => Promise<T>): Promise<T> {
    const c = await r.connect({ host: '127.0.0.1', port: this.nodes[1].port, silent: true })
    try {
      return await work(c)
    } finally {
      await c.close()
    }
  }
}
