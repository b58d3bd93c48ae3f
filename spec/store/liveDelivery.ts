import { expect } from 'chai'
import type { EventEnvelope, StorageAdapter, Subscription } from 'omniscient-actors'
import { collect, newEvent } from './conformance.js'

const until = async (check: () => boolean, what: string, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

// More than a subscriber may have waiting for its handler (FOLLOWER_BUFFER, 1,024).
const PAST_THE_BUFFER = 3_000

/**
 * Live delivery of many subscriptions at once, part of the StorageAdapter contract: every
 * adapter delivers through one shared tail per store, so these run against each of them.
 */
export function describeLiveDelivery(storeOf: () => StorageAdapter): void {
  describe('many subscriptions at once', () => {
    let store: StorageAdapter
    const subs: Subscription[] = []
    beforeEach(() => {
      store = storeOf()
    })
    afterEach(async () => {
      await Promise.all(subs.splice(0).map((s) => s.close()))
    })
    const subscribe = (...args: Parameters<StorageAdapter['subscribe']>) => {
      const sub = store.subscribe(...args)
      subs.push(sub)
      return sub
    }

    it('should leave no gap and no duplicate at the seam when events land while a subscription catches up', async () => {
      // A subscriber that follows already, so that the late one joins a tail that is moving.
      const early: number[] = []
      subscribe({}, (e) => void early.push(e.position))
      for (let b = 0; b < 4; b++) await store.append(`past-${b}`, Array.from({ length: 250 }, () => newEvent()), { expectedVersion: 0 })
      let writing = true
      const writer = (async () => {
        for (let i = 0; writing || i < 100; i++) {
          await store.append(`live-${i % 5}`, [newEvent('w', { i })], { expectedVersion: 'any' })
          await new Promise((r) => setImmediate(r))
        }
      })()
      const got: number[] = []
      // A slow catch-up: the writer commits while this one is still reading the past.
      subscribe({ fromPosition: 1 }, async (e) => {
        got.push(e.position)
        if (got.length % 50 === 0) await new Promise((r) => setTimeout(r, 1))
      })
      await until(() => got.length >= 1_000, 'the past')
      writing = false
      await writer
      const all = (await collect(store.readAll())).map((e) => e.position)
      await until(() => got.length >= all.length && early.length >= all.length, 'every event')
      await new Promise((r) => setTimeout(r, 20))
      expect(got).to.deep.equal(all)
      expect(early).to.deep.equal(all)
    })

    it('should resume from a position while others follow live, and again from where it stopped', async () => {
      const others: number[] = []
      subscribe({}, (e) => void others.push(e.position))
      const first = (await store.append('s', Array.from({ length: 10 }, () => newEvent()), { expectedVersion: 0 })).events
      const got: number[] = []
      const sub = store.subscribe({ fromPosition: first[4]!.position }, (e) => void got.push(e.position))
      await until(() => got.length === 6, 'the events from the fifth on')
      await sub.close()
      const more = (await store.append('s', Array.from({ length: 5 }, () => newEvent()), { expectedVersion: 10 })).events
      subscribe({ fromPosition: sub.nextPosition }, (e) => void got.push(e.position))
      await until(() => got.length === 11, 'the events after the close')
      const after = (await store.append('s', [newEvent()], { expectedVersion: 15 })).events
      await until(() => got.length === 12 && others.length === 16, 'the live one')
      expect(got).to.deep.equal([...first.slice(4), ...more, ...after].map((e) => e.position))
      expect(others).to.deep.equal([...first, ...more, ...after].map((e) => e.position))
    })

    it('should not let a slow subscriber hold up the others, and deliver it everything in order once it moves again', async () => {
      let release: () => void = () => {}
      const slow: number[] = []
      subscribe({}, async (e) => {
        slow.push(e.position)
        if (slow.length === 1) await new Promise<void>((r) => (release = r))
      })
      const fast: number[] = []
      subscribe({}, (e) => void fast.push(e.position))
      const mine: number[] = []
      subscribe({ streamId: 'b-1' }, (e) => void mine.push(e.version))
      await new Promise((r) => setTimeout(r, 20))
      for (let b = 0; b < PAST_THE_BUFFER / 100; b++) await store.append(`b-${b}`, Array.from({ length: 100 }, () => newEvent()), { expectedVersion: 0 })
      await until(() => fast.length === PAST_THE_BUFFER, 'the fast subscriber to get everything')
      await until(() => mine.length === 100, 'the stream subscriber to get its stream')
      expect(slow, 'the slow one is still at its first event').to.have.length(1)
      release()
      await until(() => slow.length === PAST_THE_BUFFER, 'the slow one to catch up')
      // It follows live again afterwards.
      await store.append('b-0', [newEvent()], { expectedVersion: 100 })
      await until(() => slow.length === PAST_THE_BUFFER + 1 && fast.length === PAST_THE_BUFFER + 1, 'the next live event')
      const all = (await collect(store.readAll())).map((e) => e.position)
      expect(slow).to.deep.equal(all)
      expect(fast).to.deep.equal(all)
      expect(mine).to.deep.equal(Array.from({ length: 100 }, (_, i) => i + 1))
    })

    it('should deliver each stream in version order to its subscribers, and by name to name subscribers', async () => {
      const byStream = new Map<string, number[]>()
      const streams = ['o-0', 'o-1', 'o-2', 'o-3']
      for (const id of streams) for (let k = 0; k < 2; k++) subscribe({ streamId: id }, (e) => void byStream.set(`${id}#${k}`, [...(byStream.get(`${id}#${k}`) ?? []), e.version]))
      const named: string[] = []
      subscribe({ names: ['odd'] }, (e) => void named.push(`${e.streamId}@${e.version}`))
      const oddOfOne: number[] = []
      subscribe({ streamId: 'o-1', names: ['odd'] }, (e) => void oddOfOne.push(e.version))
      await new Promise((r) => setTimeout(r, 20))
      const versions = new Map(streams.map((id) => [id, 0]))
      const expectedOdd: string[] = []
      await Promise.all(
        streams.map(async (id) => {
          for (let n = 0; n < 30; n++) {
            const v = versions.get(id)!
            const name = (v + 1) % 2 === 1 ? 'odd' : 'even'
            const stored = (await store.append(id, [newEvent(name)], { expectedVersion: v })).events[0]!
            versions.set(id, v + 1)
            if (name === 'odd') expectedOdd.push(`${stored.position}:${id}@${stored.version}`)
          }
        }),
      )
      await until(() => [...byStream.values()].every((v) => v.length === 30) && byStream.size === 8 && named.length === 60 && oddOfOne.length === 15, 'every event')
      for (const got of byStream.values()) expect(got).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1))
      expect(named).to.deep.equal(expectedOdd.sort((a, b) => Number(a.split(':')[0]) - Number(b.split(':')[0])).map((s) => s.split(':')[1]))
      expect(oddOfOne).to.deep.equal(Array.from({ length: 15 }, (_, i) => 2 * i + 1))
    })

    it('should give 3,000 subscriptions on distinct streams exactly their own events', async function () {
      this.timeout(120_000)
      const COUNT = 3_000
      const got = Array.from({ length: COUNT }, () => [] as EventEnvelope[])
      const from = (await store.headPosition()) + 1
      for (let i = 0; i < COUNT; i++) subscribe({ streamId: `many-${i}`, fromPosition: from }, (e) => void got[i]!.push(e))
      // Two rounds: the first lands while subscriptions may still catch up, the second live.
      for (let round = 1; round <= 2; round++) {
        for (let i = 0; i < COUNT; i += 100) {
          await Promise.all(Array.from({ length: 100 }, (_, k) => store.append(`many-${i + k}`, [newEvent('own', { i: i + k, round })], { expectedVersion: round - 1 })))
        }
        await until(() => got.every((events) => events.length === round), `round ${round} everywhere`, 60_000)
      }
      await new Promise((r) => setTimeout(r, 50))
      got.forEach((events, i) => {
        expect(events.map((e) => [e.streamId, e.version, (e.data as { i: number }).i])).to.deep.equal([
          [`many-${i}`, 1, i],
          [`many-${i}`, 2, i],
        ])
      })
    })

    it("should hand each subscriber its own copy of an event's data", async () => {
      const seen: Array<{ list: number[] }> = []
      for (let k = 0; k < 2; k++) {
        subscribe({ streamId: 'shared' }, (e) => {
          const data = e.data as { list: number[] }
          seen.push(data)
          data.list.push(99) // a handler that keeps and changes what it got
        })
      }
      await new Promise((r) => setTimeout(r, 20))
      await store.append('shared', [newEvent('x', { list: [1] })], { expectedVersion: 0 })
      await until(() => seen.length === 2, 'both subscribers')
      expect(seen[0]).to.not.equal(seen[1])
      expect(seen.map((d) => d.list)).to.deep.equal([[1, 99], [1, 99]])
    })
  })
}
