import { expect } from 'chai'
import { GroupCommit, type Outcome } from '../../../lib/store/kit/GroupCommit.js'

interface Work {
  key: string
  n: number
}

/** A runBatch whose groups finish when the test says so, recording what ran together. */
function controlledStore() {
  const groups: Work[][] = []
  const finishers: Array<() => void> = []
  let running = 0
  let mostAtOnce = 0
  const runBatch = async (works: readonly Work[]): Promise<Array<Outcome<number>>> => {
    groups.push([...works])
    running++
    mostAtOnce = Math.max(mostAtOnce, running)
    await new Promise<void>((done) => finishers.push(done))
    running--
    return works.map((w) => (w.n < 0 ? { ok: false, error: new Error(`refused ${w.n}`) } : { ok: true, value: w.n * 10 }))
  }
  return {
    runBatch,
    groups,
    mostAtOnce: () => mostAtOnce,
    /** Finishes the oldest running group and lets the next ones start. */
    async finishOne() {
      finishers.shift()!()
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
    },
  }
}

const turn = () => new Promise((r) => setImmediate(r))

describe('GroupCommit', () => {
  it('should run the writes of one turn as one group, answering each with its own outcome', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch)
    const answers = Promise.allSettled([1, -2, 3].map((n) => commits.submit({ key: `k${n}`, n })))
    await turn()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1, -2, 3]])
    await store.finishOne()
    const settled = await answers
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).to.deep.equal([10, 'refused -2', 30])
    await commits.drained()
  })

  it('should run one group at a time by default, the writes that came meanwhile forming the next', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch)
    const first = commits.submit({ key: 'a', n: 1 })
    await turn()
    const later = [commits.submit({ key: 'b', n: 2 }), commits.submit({ key: 'c', n: 3 })]
    await turn()
    expect(store.groups).to.have.length(1)
    await store.finishOne()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1], [2, 3]])
    await store.finishOne()
    expect(await Promise.all([first, ...later])).to.deep.equal([10, 20, 30])
    expect(store.mostAtOnce()).to.equal(1)
  })

  it('should share the pending writes among the groups it may run at once', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch, { inFlight: 2, keyOf: (w: Work) => w.key })
    const answers = Array.from({ length: 6 }, (_, n) => commits.submit({ key: `k${n}`, n }))
    await turn()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[0, 1, 2], [3, 4, 5]])
    expect(store.mostAtOnce()).to.equal(2)
    // A write arriving while both run waits for a free slot.
    const late = commits.submit({ key: 'k9', n: 9 })
    await turn()
    expect(store.groups).to.have.length(2)
    await store.finishOne()
    expect(store.groups[2]!.map((w) => w.n)).to.deep.equal([9])
    await store.finishOne()
    await store.finishOne()
    expect(await Promise.all([...answers, late])).to.deep.equal([0, 10, 20, 30, 40, 50, 90])
    await commits.drained()
  })

  it('should never run writes with one key in two groups at once, and keep their order', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch, { inFlight: 2, keyOf: (w: Work) => w.key })
    const answers = [
      commits.submit({ key: 's', n: 1 }),
      commits.submit({ key: 't', n: 2 }),
      commits.submit({ key: 's', n: 3 }),
      commits.submit({ key: 'u', n: 4 }),
    ]
    await turn()
    // Split in two: [s1, t2] and [s3, u4]; but s3 must wait for s1, and so it stays behind
    // while u4 (another key) goes on.
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1, 2], [4]])
    const s5 = commits.submit({ key: 's', n: 5 })
    await store.finishOne()
    expect(store.groups[2]!.map((w) => w.n)).to.deep.equal([3, 5])
    await store.finishOne()
    await store.finishOne()
    expect(await Promise.all([...answers, s5])).to.deep.equal([10, 20, 30, 40, 50])
  })

  it('should put at most one write per key in a group with onePerKey, the later ones waiting in order', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch, { keyOf: (w: Work) => w.key, onePerKey: true })
    const answers = [
      commits.submit({ key: 's', n: 1 }),
      commits.submit({ key: 's', n: 2 }),
      commits.submit({ key: 't', n: 3 }),
      commits.submit({ key: 's', n: 4 }),
    ]
    await turn()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1, 3]])
    await store.finishOne()
    await store.finishOne()
    await store.finishOne()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1, 3], [2], [4]])
    expect(await Promise.all(answers)).to.deep.equal([10, 20, 30, 40])
    await commits.drained()
  })

  it('should put at most maxGroup writes in a group, the others forming the next', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch, { maxGroup: 2 })
    const answers = [1, 2, 3, 4, 5].map((n) => commits.submit({ key: `k${n}`, n }))
    await turn()
    await store.finishOne()
    await store.finishOne()
    await store.finishOne()
    expect(store.groups.map((g) => g.map((w) => w.n))).to.deep.equal([[1, 2], [3, 4], [5]])
    expect(await Promise.all(answers)).to.deep.equal([10, 20, 30, 40, 50])
  })

  it('should refuse onePerKey without keyOf', () => {
    expect(() => new GroupCommit(async () => [], { onePerKey: true })).to.throw(TypeError, 'onePerKey needs keyOf')
  })

  it('should reject every write of a group whose run throws, and go on with the next group', async () => {
    let calls = 0
    const commits = new GroupCommit<Work, number>(async (works) => {
      if (calls++ === 0) throw new Error('connection lost')
      return works.map((w) => ({ ok: true, value: w.n }))
    })
    const lost = [commits.submit({ key: 'a', n: 1 }), commits.submit({ key: 'b', n: 2 })]
    const settled = await Promise.allSettled(lost)
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'connection lost')).to.equal(true)
    expect(await commits.submit({ key: 'a', n: 3 })).to.equal(3)
    await commits.drained()
  })

  it('should resolve drained() only once nothing is queued or running', async () => {
    const store = controlledStore()
    const commits = new GroupCommit(store.runBatch, { inFlight: 2, keyOf: (w: Work) => w.key })
    void commits.submit({ key: 'a', n: 1 })
    void commits.submit({ key: 'a', n: 2 })
    let drained = false
    void commits.drained().then(() => (drained = true))
    await turn()
    await store.finishOne()
    expect(drained).to.equal(false)
    await store.finishOne()
    expect(drained).to.equal(true)
  })
})
