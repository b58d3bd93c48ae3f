import { execFileSync } from 'node:child_process'

let made = 0

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/**
 * A Linux network namespace joined to the host by a veth pair: processes started in it (through
 * `command`) reach the host only over that link, which `cut()` takes down (packets are dropped
 * silently, no RST or FIN: a partition) and `heal()` brings back. Needs root (or CAP_NET_ADMIN)
 * and the `ip` tool; `Namespace.available()` says whether this machine allows it.
 *
 * @example
 * const ns = Namespace.create()
 * spawn(ns.command[0], [...ns.command.slice(1), 'node', 'worker.js', `postgres://${ns.hostAddress}:5432/db`])
 * ns.cut(); ...; ns.heal(); ns.dispose()
 */
export class Namespace {
  private constructor(
    readonly name: string,
    /** The host's end of the link, as seen from inside the namespace. */
    readonly hostAddress: string,
    /** The namespace's own address. */
    readonly address: string,
    private readonly hostDevice: string,
    private readonly innerDevice: string,
  ) {}

  /** Whether namespaces can be made here (root, `ip`, a kernel that allows them): tried once. */
  static available(): boolean {
    return (availability ??= probe())
  }

  /** Makes a namespace with its link up. Each gets its own /30 in 10.231.0.0/16. */
  static create(): Namespace {
    const n = (process.pid % 200) * 64 + (made++ % 64)
    const subnet = `10.231.${Math.floor(n / 64)}.${(n % 64) * 4}`
    const base = subnet.split('.').map(Number) as [number, number, number, number]
    const at = (k: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3] + k}`
    const name = `oa-${process.pid}-${made}`
    const host = `oah${process.pid % 100000}x${made}`.slice(0, 15)
    const inner = `oan${process.pid % 100000}x${made}`.slice(0, 15)
    ip('netns', 'add', name)
    const ns = new Namespace(name, at(1), at(2), host, inner)
    try {
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inner)
      ip('link', 'set', inner, 'netns', name)
      ip('addr', 'add', `${at(1)}/30`, 'dev', host)
      ip('link', 'set', host, 'up')
      ip('netns', 'exec', name, 'ip', 'addr', 'add', `${at(2)}/30`, 'dev', inner)
      ip('netns', 'exec', name, 'ip', 'link', 'set', inner, 'up')
      ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
    } catch (err) {
      ns.dispose()
      throw err
    }
    return ns
  }

  /** The prefix that runs a command inside the namespace. */
  get command(): string[] {
    return ['ip', 'netns', 'exec', this.name]
  }

  /**
   * Cuts the link: the host's end goes down, so the namespace's packets are dropped without an
   * answer (its own end stays up: its sockets see no error, only silence).
   */
  cut(): void {
    ip('link', 'set', this.hostDevice, 'down')
  }

  /** Brings the link back (the host's address and route come back with it). */
  heal(): void {
    ip('link', 'set', this.hostDevice, 'up')
    try {
      ip('addr', 'add', `${this.hostAddress}/30`, 'dev', this.hostDevice)
    } catch {
      // Still there: a link set down keeps its address.
    }
  }

  /** Whether `lose()` works here: nftables' `nft` tool is installed. */
  static canLose(): boolean {
    return (canLose ??= probeNft())
  }

  /**
   * Drops `percent` of the packets on the link, each way, at random (an nftables rule inside the
   * namespace; this kernel has no netem), until `loseNone()`. Loopback inside is not touched.
   */
  lose(percent: number): void {
    this.loseNone()
    const rule = (hook: 'input' | 'output', device: 'iifname' | 'oifname') => [
      ['add', 'chain', 'inet', LOSS_TABLE, hook, `{ type filter hook ${hook} priority 0; }`],
      ['add', 'rule', 'inet', LOSS_TABLE, hook, device, this.innerDevice, 'numgen', 'random', 'mod', '100', '<', String(percent), 'drop'],
    ]
    for (const args of [['add', 'table', 'inet', LOSS_TABLE], ...rule('input', 'iifname'), ...rule('output', 'oifname')]) {
      execFileSync('ip', ['netns', 'exec', this.name, 'nft', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    }
  }

  /** Stops dropping packets. */
  loseNone(): void {
    try {
      execFileSync('ip', ['netns', 'exec', this.name, 'nft', 'delete', 'table', 'inet', LOSS_TABLE], { stdio: 'ignore' })
    } catch {
      // No loss was set.
    }
  }

  /** Removes the link and the namespace (processes still in it should be gone first). */
  dispose(): void {
    try {
      ip('link', 'del', this.hostDevice)
    } catch {
      // Already gone with its namespace.
    }
    try {
      ip('netns', 'del', this.name)
    } catch {
      // Never made.
    }
  }
}

let availability: boolean | undefined
let canLose: boolean | undefined
const LOSS_TABLE = 'omniscient_loss'

function probeNft(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function probe(): boolean {
  if (process.platform !== 'linux' || process.env['FAULTS_NO_NAMESPACES']) return false
  try {
    Namespace.create().dispose()
    return true
  } catch {
    return false
  }
}
