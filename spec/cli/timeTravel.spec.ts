import { expect } from 'chai'
import { z } from 'zod'
import { Actor, MemoryStore, defineEvents, type Container, type EventData, type NewEvent } from 'omniscient-actors'
import { replayActor, type Step } from '../../cli/replay/timeTravel.js'

const TallyEvents = defineEvents({ counted: z.object({ n: z.number() }) })

/** A handler that changes the state, then throws: the half-applied state must never be shown. */
class Tally extends Actor<typeof TallyEvents, { seen: number[]; total: number }> {
  static events = TallyEvents
  static snapshotEvery = 1
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.seen = []
    this._state.total = 0
  }
  counted(data: EventData<typeof TallyEvents, 'counted'>) {
    this._state.seen.push(data.n)
    if (data.n < 0) throw new Error('negative count')
    this._state.total += data.n
  }
}

let k = 0
const counted = (n: number): NewEvent => ({ id: `t-${++k}`, name: 'counted', data: { n }, schemaVersion: 1, at: k, meta: {} })

describe('replayActor() (time travel)', () => {
  it('should stop at a version, and step from a given version only', async () => {
    const store = new MemoryStore()
    await store.append('t', [counted(1), counted(2), counted(3), counted(4)], { expectedVersion: 0 })
    expect((await replayActor(Tally, store, 't', { toVersion: 2 })).state).to.deep.equal({ seen: [1, 2], total: 3 })
    const steps: Step[] = []
    const result = await replayActor(Tally, store, 't', { toVersion: 3, stepsFrom: 3, onStep: (s) => void steps.push(s) })
    expect(steps.map((s) => s.event.version)).to.deep.equal([3])
    expect(steps[0]!.changes).to.deep.equal([
      { path: ['seen', 2], kind: 'added', after: 3 },
      { path: ['total'], kind: 'changed', before: 3, after: 6 },
    ])
    expect(result).to.deep.include({ version: 3, head: 4 })
  })

  it('should show the state before a failing handler, not what it half changed', async () => {
    const store = new MemoryStore()
    await store.append('t', [counted(1), counted(2), counted(-1), counted(4)], { expectedVersion: 0 })
    const result = await replayActor(Tally, store, 't')
    expect(result.error).to.deep.include({ version: 3 })
    expect(result.error!.message).to.contain('negative count')
    expect(result.state).to.deep.equal({ seen: [1, 2], total: 3 })
    expect(result.version).to.equal(2)
  })

  it('should write nothing to the store: no snapshot, no event', async () => {
    const store = new MemoryStore()
    await store.append('t', [counted(1), counted(2)], { expectedVersion: 0 })
    await replayActor(Tally, store, 't')
    expect(await store.loadSnapshot('Tally', 't')).to.equal(undefined)
    expect(await store.headPosition()).to.equal(2)
  })

  it('should ignore a snapshot, so that every event is applied', async () => {
    const store = new MemoryStore()
    await store.append('t', [counted(1)], { expectedVersion: 0 })
    await store.saveSnapshot({ actorType: 'Tally', streamId: 't', snapshotVersion: 1, version: 1, state: { seen: [99], total: 99 }, at: 1 })
    expect((await replayActor(Tally, store, 't')).state).to.deep.equal({ seen: [1], total: 1 })
  })
})
