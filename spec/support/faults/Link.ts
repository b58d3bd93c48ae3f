import { SilentProxy } from '../SilentProxy.js'
import { Namespace } from './Namespace.js'

/** How a fault spec cuts a client off from a server. */
export type LinkKind = 'namespace' | 'proxy'

/**
 * One client's way to one server, which a fault spec cuts and heals: a network namespace whose
 * veth link goes down (`namespace`: the kernel drops the packets), or a TCP proxy that stops
 * forwarding without closing (`proxy`, everywhere). Either way the client sees silence: no
 * answer, no RST, no FIN.
 */
export class Link {
  private constructor(
    readonly kind: LinkKind,
    /** host:port the client connects to. */
    readonly address: { host: string; port: number },
    /** The prefix of the client process's command line (`ip netns exec ...`, or nothing). */
    readonly command: readonly string[],
    private readonly proxy: SilentProxy,
    private readonly namespace: Namespace | undefined,
  ) {}

  /** The kinds this machine allows: `proxy` always, `namespace` with root and `ip netns`. */
  static kinds(): LinkKind[] {
    return Namespace.available() ? ['namespace', 'proxy'] : ['proxy']
  }

  static async open(kind: LinkKind, target: { host: string; port: number }): Promise<Link> {
    if (kind === 'proxy') {
      const proxy = await SilentProxy.start(target)
      return new Link(kind, { host: '127.0.0.1', port: proxy.port }, [], proxy, undefined)
    }
    const ns = Namespace.create()
    // The server listens on the host's loopback: a forwarder on the link's host end reaches
    // it. The forwarder itself is never silenced; the link is cut below it.
    const forwarder = await SilentProxy.start(target, { host: ns.hostAddress })
    return new Link(kind, { host: ns.hostAddress, port: forwarder.port }, ns.command, forwarder, ns)
  }

  /**
   * Makes the link slow and lossy until `restore()`: every chunk held `delayMs` each way (at the
   * proxy, or at the namespace's forwarder), and `lossPercent` of the packets dropped by the
   * kernel (namespace only, with nftables: a proxy cannot lose what TCP has delivered to it).
   */
  degrade({ delayMs = 0, lossPercent = 0 }: { delayMs?: number; lossPercent?: number }): void {
    if (lossPercent > 0) {
      if (!this.namespace) throw new Error('packet loss needs a namespace link')
      this.namespace.lose(lossPercent)
    }
    this.proxy.delay(delayMs)
  }

  restore(): void {
    this.namespace?.loseNone()
    this.proxy.delay(0)
  }

  cut(): void {
    if (this.namespace) this.namespace.cut()
    else this.proxy.silence()
  }

  heal(): void {
    if (this.namespace) this.namespace.heal()
    else this.proxy.heal()
  }

  async close(): Promise<void> {
    this.heal()
    await this.proxy.close()
    this.namespace?.dispose()
  }
}
