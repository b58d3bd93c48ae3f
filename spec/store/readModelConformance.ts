import { expect } from 'chai'
import { LeaseLostError } from 'omniscient-actors'
import type { DocumentWrite, ReadModelBatch, ReadModelStorage } from 'omniscient-actors/read'
import { encodeIndexValue } from '../../lib/store/kit/indexValue.js'
import type { AdapterHarness } from './conformance.js'

/** What each adapter gives the read-model storage suite: the adapter suites' harness, of which it uses `store` and `dispose`. */
type ReadModelHarness = Pick<AdapterHarness, 'store' | 'dispose'>

function write(key: string, doc: unknown, position: number, index: Record<string, string | number> = {}): DocumentWrite {
  const encoded: Record<string, string> = {}
  for (const [name, value] of Object.entries(index)) encoded[name] = encodeIndexValue(value)!
  return { key, doc, index: encoded, position }
}

function batch(overrides: Partial<ReadModelBatch> & Pick<ReadModelBatch, 'from' | 'to'>): ReadModelBatch {
  return { model: 'm', version: 1, writes: [], ...overrides }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

/**
 * The read-model operations of a store (`store.readModels()`), one suite for every adapter:
 * documents by (model, version, key), each version's checkpoint, the active version, queries.
 */
export function describeReadModelStorageContract(adapterName: string, makeHarness: () => Promise<ReadModelHarness>): void {
  describe(`ReadModelStorage contract: ${adapterName}`, function () {
    let h: ReadModelHarness
    let storage: ReadModelStorage
    beforeEach(async () => {
      h = await makeHarness()
      storage = h.store.readModels!()
    })
    afterEach(() => h.dispose())

    describe('commit()', () => {
      it('should store documents, move the checkpoint and activate the version together', async () => {
        expect(await storage.info('m')).to.deep.equal({ active: undefined, versions: [] })
        expect(await storage.commit(batch({ from: 0, to: 5, writes: [write('a', { n: 1 }, 3)], activate: true }))).to.equal('committed')
        expect(await storage.info('m')).to.deep.equal({ active: 1, versions: [{ version: 1, checkpoint: 5 }] })
        expect(await storage.activeCheckpoint('m')).to.equal(5)
        expect(await storage.get('m', 'a')).to.deep.equal({ n: 1 })
        expect(await storage.read('m', 1, 'a')).to.deep.equal({ doc: { n: 1 }, position: 3 })
      })

      it('should refuse a batch whose starting checkpoint is not the stored one, and write none of it', async () => {
        await storage.commit(batch({ from: 0, to: 5, writes: [write('a', { n: 1 }, 5)], activate: true }))
        expect(await storage.commit(batch({ from: 0, to: 9, writes: [write('a', { n: 2 }, 9), write('b', { n: 2 }, 9)] }))).to.equal('stale')
        expect(await storage.get('m', 'a')).to.deep.equal({ n: 1 })
        expect(await storage.get('m', 'b')).to.equal(undefined)
        expect(await storage.activeCheckpoint('m')).to.equal(5)
      })

      it('should replace and delete documents', async () => {
        await storage.commit(batch({ from: 0, to: 1, writes: [write('a', { n: 1 }, 1), write('b', { n: 1 }, 1)], activate: true }))
        await storage.commit(batch({ from: 1, to: 2, writes: [write('a', { n: 2 }, 2), write('b', undefined, 2)] }))
        expect(await storage.get('m', 'a')).to.deep.equal({ n: 2 })
        expect(await storage.get('m', 'b')).to.equal(undefined)
        expect((await storage.list('m')).docs.map((d) => d.key)).to.deep.equal(['a'])
      })

      it('should keep data as JSON gives it back (nested, unicode)', async () => {
        const doc = { list: [1, 'two', null], nested: { ok: true }, text: 'żółw 🐢' }
        await storage.commit(batch({ from: 0, to: 1, writes: [write('k/1 ż', doc, 1)], activate: true }))
        expect(await storage.get('m', 'k/1 ż')).to.deep.equal(doc)
      })

      it('should refuse a batch fenced with a lease term that is no longer current (LeaseLostError), writing nothing', async () => {
        const now = Date.now()
        const first = await h.store.acquireLease('read/m', 'one', 50, now)
        await storage.commit(batch({ from: 0, to: 1, writes: [write('a', { n: 1 }, 1)], activate: true, lease: { name: 'read/m', term: first.term } }))
        const second = await h.store.acquireLease('read/m', 'two', 1_000, now + 100)
        expect(second.term).to.be.greaterThan(first.term)
        const err = await rejection(storage.commit(batch({ from: 1, to: 2, writes: [write('a', { n: 2 }, 2)], lease: { name: 'read/m', term: first.term } })))
        expect(err).to.be.instanceOf(LeaseLostError)
        expect(await storage.get('m', 'a')).to.deep.equal({ n: 1 })
        expect(await storage.activeCheckpoint('m')).to.equal(1)
      })

      it('should keep models and versions apart', async () => {
        await storage.commit(batch({ from: 0, to: 1, writes: [write('a', { v: 1 }, 1)], activate: true }))
        await storage.commit(batch({ version: 2, from: 0, to: 1, writes: [write('a', { v: 2 }, 1)] }))
        await storage.commit(batch({ model: 'other', from: 0, to: 1, writes: [write('a', { other: true }, 1)], activate: true }))
        expect(await storage.get('m', 'a')).to.deep.equal({ v: 1 })
        expect(await storage.get('m', 'a', 2)).to.deep.equal({ v: 2 })
        expect(await storage.get('other', 'a')).to.deep.equal({ other: true })
        expect(await storage.info('m')).to.deep.equal({ active: 1, versions: [{ version: 1, checkpoint: 1 }, { version: 2, checkpoint: 1 }] })
      })

      it('should switch the active version in one step, and never back to an older one', async () => {
        await storage.commit(batch({ from: 0, to: 3, writes: [write('a', { v: 1 }, 3)], activate: true }))
        await storage.commit(batch({ version: 2, from: 0, to: 3, writes: [write('a', { v: 2 }, 3)] }))
        expect(await storage.get('m', 'a')).to.deep.equal({ v: 1 })
        expect(await storage.commit(batch({ version: 2, from: 3, to: 3, activate: true }))).to.equal('committed')
        expect(await storage.get('m', 'a')).to.deep.equal({ v: 2 })
        expect(await storage.commit(batch({ from: 3, to: 4, activate: true }))).to.equal('stale')
        expect((await storage.info('m')).active).to.equal(2)
      })
    })

    describe('list()', () => {
      it('should page through documents in key order (byte order)', async () => {
        const keys = ['b', 'a', 'B', 'c', 'aa', 'é', 'z']
        await storage.commit(batch({ from: 0, to: 1, writes: keys.map((k) => write(k, { k }, 1)), activate: true }))
        const seen: string[] = []
        let after: string | undefined
        do {
          const page = await storage.list('m', { limit: 3, ...(after !== undefined ? { after } : {}) })
          expect(page.docs.length).to.be.at.most(3)
          seen.push(...page.docs.map((d) => d.key))
          after = page.next
        } while (after !== undefined)
        expect(seen).to.deep.equal(['B', 'a', 'aa', 'b', 'c', 'z', 'é'])
      })

      it('should answer an empty page for a model with no active version', async () => {
        expect(await storage.list('nothing')).to.deep.equal({ docs: [] })
        expect(await storage.get('nothing', 'a')).to.equal(undefined)
      })
    })

    describe('find()', () => {
      beforeEach(async () => {
        const scores: Array<[string, number | string]> = [['a', 3], ['b', -1.5], ['c', 10], ['d', 3], ['e', 0], ['f', 'text'], ['g', 1e9]]
        await storage.commit(batch({ from: 0, to: 1, writes: scores.map(([k, v]) => write(k, { k, v }, 1, { score: v })), activate: true }))
      })

      it('should order by the index value (numbers before strings), then key', async () => {
        const page = await storage.find('m', 'score')
        expect(page.docs.map((d) => d.key)).to.deep.equal(['b', 'e', 'a', 'd', 'c', 'g', 'f'])
        const desc = await storage.find('m', 'score', { order: 'desc' })
        expect(desc.docs.map((d) => d.key)).to.deep.equal(['f', 'g', 'c', 'd', 'a', 'e', 'b'])
      })

      it('should filter by eq and by ranges', async () => {
        expect((await storage.find('m', 'score', { eq: 3 })).docs.map((d) => d.key)).to.deep.equal(['a', 'd'])
        expect((await storage.find('m', 'score', { gt: 0, lt: 10 })).docs.map((d) => d.key)).to.deep.equal(['a', 'd'])
        expect((await storage.find('m', 'score', { gte: 0, lte: 10 })).docs.map((d) => d.key)).to.deep.equal(['e', 'a', 'd', 'c'])
        expect((await storage.find('m', 'score', { eq: 'text' })).docs.map((d) => d.doc)).to.deep.equal([{ k: 'f', v: 'text' }])
      })

      it('should page with the cursor, in both orders', async () => {
        for (const order of ['asc', 'desc'] as const) {
          const seen: string[] = []
          let after: string | undefined
          do {
            const page = await storage.find('m', 'score', { order, limit: 2, ...(after !== undefined ? { after } : {}) })
            seen.push(...page.docs.map((d) => d.key))
            after = page.next
          } while (after !== undefined)
          const all = (await storage.find('m', 'score', { order })).docs.map((d) => d.key)
          expect(seen).to.deep.equal(all)
        }
      })

      it('should follow a document whose index value changed or that was deleted', async () => {
        await storage.commit(batch({ from: 1, to: 2, writes: [write('a', { k: 'a', v: 100 }, 2, { score: 100 }), write('c', undefined, 2), write('e', { k: 'e' }, 2)] }))
        const page = await storage.find('m', 'score', { gte: 0 })
        expect(page.docs.map((d) => d.key)).to.deep.equal(['d', 'a', 'g', 'f'])
      })
    })

    describe('drop()', () => {
      it('should remove a version, but never the active one', async () => {
        await storage.commit(batch({ from: 0, to: 1, writes: [write('a', { v: 1 }, 1, { x: 1 })], activate: true }))
        await storage.commit(batch({ version: 2, from: 0, to: 1, writes: [write('a', { v: 2 }, 1, { x: 1 })] }))
        await storage.drop('m', 1)
        await storage.drop('m', 2)
        expect(await storage.info('m')).to.deep.equal({ active: 1, versions: [{ version: 1, checkpoint: 1 }] })
        expect(await storage.get('m', 'a', 2)).to.equal(undefined)
        expect((await storage.find('m', 'x', { version: 2 })).docs).to.deep.equal([])
        expect(await storage.get('m', 'a')).to.deep.equal({ v: 1 })
      })
    })
  })
}
