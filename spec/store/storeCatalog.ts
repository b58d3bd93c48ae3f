import { expect } from 'chai'
import { InvalidArgumentError, type StorageAdapter } from 'omniscient-actors'
import { newEvent, type AdapterHarness } from './conformance.js'

type Catalogued = StorageAdapter & Required<Pick<StorageAdapter, 'listStreams' | 'listLeases' | 'listCheckpoints'>>

/**
 * The optional store-wide reads tools use (listStreams, listLeases, listCheckpoints), for the
 * adapters that offer them. Each `it` gets a fresh store.
 */
export function describeStoreCatalog(adapterName: string, makeHarness: () => Promise<AdapterHarness>): void {
  describe(`store catalog: ${adapterName}`, function () {
    let h: AdapterHarness
    let store: Catalogued
    beforeEach(async () => {
      h = await makeHarness()
      const s = h.store
      if (!s.listStreams || !s.listLeases || !s.listCheckpoints) throw new Error(`${adapterName} lacks a catalog method`)
      store = s as Catalogued
    })
    afterEach(async () => h.dispose())

    it('should list streams in id order with their version, last position and last time', async () => {
      await store.append('b', [newEvent(), newEvent()], { expectedVersion: 0 })
      const a = await store.append('a', [newEvent()], { expectedVersion: 0 })
      const b3 = await store.append('b', [newEvent()], { expectedVersion: 2 })
      expect(await store.listStreams()).to.deep.equal([
        { streamId: 'a', version: 1, lastPosition: a.events[0]!.position, lastAt: a.events[0]!.at },
        { streamId: 'b', version: 3, lastPosition: b3.events[0]!.position, lastAt: b3.events[0]!.at },
      ])
    })

    it('should page by the last id seen and filter by a substring', async () => {
      for (const id of ['user-1', 'user-2', 'order-1', 'user-3', 'cart-user-9']) await store.append(id, [newEvent()], { expectedVersion: 0 })
      const first = await store.listStreams({ contains: 'user-', limit: 2 })
      expect(first.map((s) => s.streamId)).to.deep.equal(['cart-user-9', 'user-1'])
      const next = await store.listStreams({ contains: 'user-', limit: 2, after: 'user-1' })
      expect(next.map((s) => s.streamId)).to.deep.equal(['user-2', 'user-3'])
      expect(await store.listStreams({ contains: 'nobody' })).to.deep.equal([])
    })

    it('should refuse a page size out of range and a NUL in a filter, as every engine does', async () => {
      for (const options of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { contains: 'a\0b' }, { after: 'x\0' }]) {
        const err = await store.listStreams(options).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(err, JSON.stringify(options)).to.be.instanceOf(InvalidArgumentError)
      }
    })

    it('should list leases held or released, with holder, term and expiry', async () => {
      await store.acquireLease('lead-b', 'p1', 1_000, 0)
      const a = await store.acquireLease('lead-a', 'p2', 5_000, 0)
      await store.releaseLease('lead-a', 'p2', a.term, 10)
      const leases = await store.listLeases()
      expect(leases.map((l) => l.name)).to.deep.equal(['lead-a', 'lead-b'])
      expect(leases[1]).to.deep.equal({ name: 'lead-b', holder: 'p1', term: 1, expiresAt: 1_000 })
      expect(leases[0]).to.deep.equal(await store.readLease('lead-a'))
    })

    it('should list checkpoints by name', async () => {
      await store.saveCheckpoint('projection-b', 7)
      await store.saveCheckpoint('projection-a', 3)
      await store.saveCheckpoint('projection-b', 9)
      expect(await store.listCheckpoints()).to.deep.equal([
        { name: 'projection-a', position: 3 },
        { name: 'projection-b', position: 9 },
      ])
    })
  })
}
