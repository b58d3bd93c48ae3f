import { expect } from 'chai'
import { RethinkStore } from 'omniscient-actors/rethinkdb'
import { newEvent } from '../store/conformance.js'
import { dropTables, freshPrefix, RETHINKDB_URL } from '../support/rethinkdb.js'
import { runCli } from './runCli.js'

;(RETHINKDB_URL ? describe : describe.skip)('omniscient streams, leases, positions on RethinkDB (needs RETHINKDB_URL)', function () {
  this.timeout(60_000)
  const prefix = freshPrefix()
  let url = ''
  before(async () => {
    const store = new RethinkStore({ url: RETHINKDB_URL!, tablePrefix: prefix })
    try {
      await store.append('cart-1', [newEvent(), newEvent()], { expectedVersion: 0 })
      await store.append('order-1', [newEvent()], { expectedVersion: 0 })
      await store.append('cart-2', [newEvent()], { expectedVersion: 0 })
      await store.append('cart-1', [newEvent()], { expectedVersion: 2 })
      await store.acquireLease('one/Stock/s-1', 'process-a', 60_000, Date.now())
      await store.saveCheckpoint('projection/orders', 3)
    } finally {
      await store.close()
    }
    const u = new URL(RETHINKDB_URL!)
    u.searchParams.set('prefix', prefix)
    url = u.toString()
  })
  after(() => dropTables(prefix))

  it("should list streams from the store's own catalog, a page at a time", async () => {
    const all = await runCli(['streams', url, '--json'])
    expect(all.code, all.stderr).to.equal(0)
    const rows = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { streamId: string; version: number; lastPosition: number })
    expect(rows.map((s) => [s.streamId, s.version, s.lastPosition])).to.deep.equal([
      ['cart-1', 3, 5],
      ['cart-2', 1, 4],
      ['order-1', 1, 3],
    ])
    const page = await runCli(['streams', url, '--contains', 'cart', '--after', 'cart-1', '-n', '1'])
    expect(page.stdout.trim().split('\n').slice(1)).to.satisfy((lines: string[]) => lines.length === 2 && /^cart-2\s+1\s/.test(lines[0]!) && lines[1]!.includes('--after "cart-2"'))
  })

  it('should list leases and checkpoints', async () => {
    const leases = await runCli(['leases', url])
    expect(leases.code, leases.stderr).to.equal(0)
    expect(leases.stdout).to.match(/one\/Stock\/s-1\s+process-a\s+1\s+.*held, expires in/)
    const positions = await runCli(['positions', url])
    expect(positions.code, positions.stderr).to.equal(0)
    expect(positions.stdout).to.match(/^head position 5\n/)
    expect(positions.stdout).to.match(/projection\/orders\s+checkpoint\s+3\s+2/)
  })
})
