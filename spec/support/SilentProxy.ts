import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy that can go silent: `silence()` stops forwarding in both directions without
 * closing anything (no FIN, no RST), which is what a network partition or a dead NAT looks
 * like to a client; `heal()` forwards again, including what was held meanwhile (as TCP
 * retransmission would deliver it after a short partition). Connections opened while silent are
 * accepted and held, never connected onward until healed. The proxy's own kernel still
 * acknowledges the client's packets, so TCP keepalive does not notice the silence: only a
 * client's own deadlines and heartbeats do, which is what the fault specs test.
 *
 * @example
 * const proxy = await SilentProxy.start({ host: '127.0.0.1', port: 5432 })
 * const store = new PgStore({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/postgres` })
 * proxy.silence(); ...; proxy.heal()
 */
export class SilentProxy {
  private silent = false
  private delayMs = 0
  private readonly pairs = new Set<{ client: Socket; server: Socket | undefined; closed: boolean; flush(): void }>()

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on a free loopback port (or `listenPort`) and forwards to `target`. */
  static async start(target: { host: string; port: number }, listen: { host?: string; port?: number } = {}): Promise<SilentProxy> {
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
    const proxy = new SilentProxy(server, address.port, target)
    server.on('connection', (client) => proxy.accept(client))
    return proxy
  }

  /** Whether the proxy is holding traffic. */
  get isSilent(): boolean {
    return this.silent
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pairs.size
  }

  /** Stops forwarding, both ways, on every connection; closes nothing. */
  silence(): void {
    this.silent = true
  }

  /**
   * Holds every chunk `ms` before forwarding it, each way (0: at once), as a slow link would:
   * order is kept.
   */
  delay(ms: number): void {
    this.delayMs = ms
  }

  /** Forwards again, held data first; connects the connections accepted while silent. */
  heal(): void {
    this.silent = false
    for (const pair of [...this.pairs]) {
      pair.flush()
      if (pair.closed || pair.server?.destroyed) {
        pair.client.destroy()
        pair.server?.destroy()
        this.pairs.delete(pair)
      }
    }
  }

  /** Closes every connection (with RST) and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy()
      pair.server?.resetAndDestroy()
    }
    this.pairs.clear()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    // Data held while silent, per direction. (Not pause(): pipe's drain handling would resume.)
    const toServer: Buffer[] = []
    const toClient: Buffer[] = []
    // A chunk is never due before the one ahead of it, so a delay that changes keeps the order.
    const due = { toServer: 0, toClient: 0 }
    const send = (to: Socket, direction: keyof typeof due, chunk: Buffer) => {
      const now = Date.now()
      if (this.delayMs === 0 && due[direction] <= now) return void to.write(chunk)
      due[direction] = Math.max(now + this.delayMs, due[direction])
      setTimeout(() => to.destroyed || to.write(chunk), due[direction] - now)
    }
    const pair = {
      client,
      server: undefined as Socket | undefined,
      // A close seen while silent reaches the other side only on heal, as a FIN would.
      closed: false,
      flush: () => {
        if (pair.closed) return void pair.server?.destroy()
        if (!pair.server) pair.connect()
        for (const chunk of toServer.splice(0)) send(pair.server!, 'toServer', chunk)
        for (const chunk of toClient.splice(0)) send(client, 'toClient', chunk)
      },
      connect: () => {
        const server = createConnection(this.target)
        pair.server = server
        server.on('data', (chunk: Buffer) => (this.silent ? toClient.push(chunk) : send(client, 'toClient', chunk)))
        server.on('error', () => undefined)
        server.on('close', () => {
          if (this.silent) return
          client.destroy()
          this.pairs.delete(pair)
        })
      },
    }
    this.pairs.add(pair)
    client.on('data', (chunk: Buffer) => (this.silent || !pair.server ? toServer.push(chunk) : send(pair.server, 'toServer', chunk)))
    client.on('error', () => undefined)
    client.on('close', () => {
      pair.closed = true
      if (this.silent) return
      pair.server?.destroy()
      this.pairs.delete(pair)
    })
    if (!this.silent) pair.connect()
  }
}
