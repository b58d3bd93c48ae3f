import { expect } from 'chai'
import { InvalidArgumentError, MemoryStore, type ListStreamsOptions } from 'omniscient-actors'
import { listCheckpoints, listLeases, listStreams } from '../../cli/storeCatalog.js'
import { newEvent } from '../store/conformance.js'
import { withoutCatalog } from '../support/withoutCatalog.js'

async function outcome(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    (value) => value,
    (err: unknown) => err,
  )
}

describe("the CLI's catalog reads", () => {
  let store: MemoryStore
  before(async () => {
    store = new MemoryStore()
    for (let i = 0; i < 120; i++) await store.append(`s-${String(i).padStart(3, '0')}`, [newEvent()], { expectedVersion: 0 })
    await store.append('s-007', [newEvent(), newEvent()], { expectedVersion: 1 })
  })

  it("should list streams without the adapter's listStreams as the adapters do, pages and filters alike", async () => {
    const plain = withoutCatalog(store)
    expect(Reflect.get(plain, 'listStreams')).to.equal(undefined)
    const cases: ListStreamsOptions[] = [{}, { limit: 1 }, { limit: 10_000 }, { contains: '-01' }, { after: 's-050', limit: 7 }, { contains: '9', after: 's-019', limit: 3 }]
    for (const options of cases) expect(await listStreams(plain, options), JSON.stringify(options)).to.deep.equal(await store.listStreams(options))
    expect(await listStreams(plain)).to.have.length(100)
  })

  it('should refuse the page sizes and filters every adapter refuses, without the adapter too', async () => {
    const plain = withoutCatalog(store)
    for (const options of [{ limit: 0 }, { limit: 10_001 }, { limit: 2.5 }, { contains: 'a\0' }, { after: '\0' }]) {
      expect(await outcome(listStreams(plain, options)), JSON.stringify(options)).to.be.instanceOf(InvalidArgumentError)
      expect(await outcome(store.listStreams(options)), JSON.stringify(options)).to.be.instanceOf(InvalidArgumentError)
    }
  })

  it('should say it cannot list leases and checkpoints (undefined) rather than list none', async () => {
    const plain = withoutCatalog(store)
    expect(await listLeases(plain)).to.equal(undefined)
    expect(await listCheckpoints(plain)).to.equal(undefined)
    expect(await listLeases(store)).to.deep.equal([])
  })
})
