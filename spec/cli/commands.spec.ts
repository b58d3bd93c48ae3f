import { expect } from 'chai'
import { join } from 'node:path'
import { SqliteStore, type NewEvent } from 'omniscient-actors'
import { waitUntil } from '../support/processes.js'
import { tempDir } from '../support/tmp.js'
import { runCli, startCli } from './runCli.js'

const cart = join('spec', 'cli', 'fixtures', 'Cart.ts')
let n = 0
function event(name: string, data?: unknown): NewEvent {
  n++
  return { id: `cmd-${process.pid}-${n}`, name, data, schemaVersion: 1, at: Date.UTC(2026, 0, 2, 3, 4, 5, n), meta: { actorType: 'Cart' } }
}

describe('omniscient streams, show, leases, state, tail', function () {
  this.timeout(60_000)
  let tmp: ReturnType<typeof tempDir>
  let url: string
  let file: string
  before(async () => {
    tmp = tempDir('omniscient-cli-')
    file = join(tmp.dir, 'app.db')
    url = `sqlite:${file}`
    const store = new SqliteStore({ file })
    await store.append('cart-1', [event('item_added', { sku: 'apple', qty: 2 }), event('item_added', { sku: 'pear', qty: 1 }), event('item_removed', { sku: 'apple' }), event('checked_out')], { expectedVersion: 0 })
    await store.append('cart-2', [event('item_added', { sku: 'kiwi', qty: 500 })], { expectedVersion: 0 })
    await store.append('order-1', [event('placed', {})], { expectedVersion: 0 })
    await store.acquireLease('one/Stock/s-1', 'process-a', 60_000, Date.now())
    await store.close()
  })
  after(() => tmp.remove())

  it('should list streams with versions, and filter them', async () => {
    const run = await runCli(['streams', url, '--contains', 'cart'])
    expect(run.code, run.stderr).to.equal(0)
    const rows = run.stdout.trim().split('\n')
    expect(rows[0]).to.match(/^STREAM\s+VERSION\s+LAST EVENT \(UTC\)\s+LAST POSITION$/)
    expect(rows[1]).to.match(/^cart-1\s+4\s+2026-01-02 03:04:05\.004\s+4$/)
    expect(rows[2]).to.match(/^cart-2\s+1\s+/)
    expect(rows).to.have.length(3)
  })

  it("should show a stream's events, and leases with holder and term", async () => {
    const show = await runCli(['show', url, 'cart-1', '--from', '2', '--to', '3'])
    expect(show.stdout.trim().split('\n')).to.deep.equal(['#2 cart-1 v2 item_added 2026-01-02 03:04:05.002 {"sku":"pear","qty":1}', '#3 cart-1 v3 item_removed 2026-01-02 03:04:05.003 {"sku":"apple"}'])
    const leases = await runCli(['leases', url])
    expect(leases.stdout).to.match(/one\/Stock\/s-1\s+process-a\s+1\s+.*held, expires in/)
  })

  it('should print the state of an actor at a version, with the user class loaded from a .ts module', async () => {
    const run = await runCli(['state', url, `${cart}#Cart`, 'cart-1', '--at', '2'])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.equal('Cart "cart-1" at version 2 of 4:\n{\n  "items": {\n    "apple": 2,\n    "pear": 1\n  },\n  "done": false\n}\n')
    const latest = await runCli(['state', url, cart, 'cart-1', '--json'])
    expect(JSON.parse(latest.stdout)).to.deep.equal({ version: 4, head: 4, state: { items: { pear: 1 }, done: true } })
  })

  it('should step through the events with the change each made', async () => {
    const run = await runCli(['state', url, `${cart}#Cart`, 'cart-1', '--step'])
    expect(run.stdout.split('\n').slice(0, 9)).to.deep.equal([
      '#1 cart-1 v1 item_added 2026-01-02 03:04:05.001 {"sku":"apple","qty":2}',
      '    + items.apple: 2',
      '#2 cart-1 v2 item_added 2026-01-02 03:04:05.002 {"sku":"pear","qty":1}',
      '    + items.pear: 1',
      '#3 cart-1 v3 item_removed 2026-01-02 03:04:05.003 {"sku":"apple"}',
      '    - items.apple: 2',
      '#4 cart-1 v4 checked_out 2026-01-02 03:04:05.004',
      '    ~ done: false -> true',
      'Cart "cart-1" at version 4 of 4:',
    ])
  })

  it('should show where a handler fails: the state before it and the error', async () => {
    const run = await runCli(['state', url, `${cart}#Cart`, 'cart-2'])
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain('Cart "cart-2": the handler failed at version 1: Cart "cart-2" failed to apply "item_added" at version 1: nobody buys 500 of kiwi')
    expect(run.stdout).to.contain('at version 0 of 1')
  })

  it('should name a missing class and list the ones the module has', async () => {
    const run = await runCli(['state', url, `${cart}#Basket`, 'cart-1'])
    expect(run.stderr).to.match(/exports no actor class "Basket" \(it exports: Cart\) \[ACTOR_CLASS_NOT_FOUND\]/)
  })

  it('should follow new events live with tail -f, by stream or by name', async () => {
    const byName = startCli(['tail', url, '-f', '-n', '0', '--names', 'placed'])
    const byStream = startCli(['tail', url, 'cart-1', '-f', '-n', '1'])
    try {
      await waitUntil(() => byStream.output().includes('checked_out'), 30_000, 'the last event of cart-1')
      await waitUntil(() => byName.errors().includes('following') && byStream.errors().includes('following'), 30_000, 'both to follow')
      const store = new SqliteStore({ file })
      await store.append('order-2', [event('placed', { total: 9 })], { expectedVersion: 0 })
      await store.append('cart-1', [event('item_added', { sku: 'fig', qty: 1 })], { expectedVersion: 4 })
      await store.close()
      await waitUntil(() => byName.output().includes('order-2 v1 placed'), 20_000, 'tail --names to print the order')
      await waitUntil(() => byStream.output().includes('cart-1 v5 item_added'), 20_000, 'tail of cart-1 to print the new item')
      expect(byName.output()).to.not.contain('cart-1')
      expect(byStream.output()).to.not.contain('order-2')
    } finally {
      byName.kill('SIGINT')
      byStream.kill('SIGINT')
    }
  })

  it('should serve the inspector on another host only with a token, which it prints', async () => {
    const inspector = startCli(['inspect', url, '--host', '0.0.0.0', '--port', '0'])
    try {
      await waitUntil(() => /inspector on http/.test(inspector.output()), 30_000, 'the inspector to listen')
      const printed = new URL(/inspector on (\S+)/.exec(inspector.output())![1]!)
      const token = printed.searchParams.get('token')!
      expect(token).to.have.length.greaterThan(20)
      const base = `http://127.0.0.1:${printed.port}`
      expect((await fetch(`${base}/api/info`)).status).to.equal(401)
      expect((await fetch(`${base}/api/info?token=${token}`)).status).to.equal(200)
    } finally {
      inspector.kill('SIGINT')
    }
  })
})
