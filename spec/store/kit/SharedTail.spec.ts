import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { CommitSignal } from '../../../lib/store/kit/CommitSignal.js'
import { SharedTail } from '../../../lib/store/kit/SharedTail.js'
import { FOLLOWER_BUFFER } from '../../../lib/store/kit/TailSubscription.js'

/** A log with gaps in its positions, counting the reads of the tail and of each subscription. */
function fakeLog() {
  const events: EventEnvelope[] = []
  const versions = new Map<string, number>()
  const reads = { tail: 0, own: 0 }
  let position = 0
  const commits = new CommitSignal()
  const source = {
    commits,
    headPosition: async () => position,
    readPage: (from: number, limit: number, streamId: string | undefined) => {
      if (streamId === undefined) reads.tail++
      else reads.own++
      const page: EventEnvelope[] = []
      for (const e of events) {
        if (page.length === limit) break
        if (e.position >= from && (streamId === undefined || e.streamId === streamId)) page.push(e)
      }
      return page
    },
  }
  return {
    events,
    reads,
    tail: new SharedTail(source),
    append(streamId: string, count = 1) {
      for (let i = 0; i < count; i++) {
        // Rolled-back appends leave holes: positions grow by 1 or 2.
        position += 1 + (events.length % 3 === 0 ? 1 : 0)
        const version = (versions.get(streamId) ?? 0) + 1
        versions.set(streamId, version)
        events.push({ id: `e${position}`, streamId, version, position, name: 'n', data: { position }, schemaVersion: 1, at: 0, meta: {} })
      }
      commits.notify()
    },
  }
}

const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

describe('SharedTail', () => {
  it('should read the log once per commit, however many subscriptions follow', async () => {
    const log = fakeLog()
    const got = new Map<string, number[]>()
    const subs = Array.from({ length: 1_000 }, (_, i) =>
      log.tail.subscribe({ streamId: `s${i}` }, (e) => void got.set(e.streamId, [...(got.get(e.streamId) ?? []), e.version])),
    )
    log.append('s0')
    await until(() => got.get('s0')?.length === 1, 'the first event')
    await new Promise((r) => setTimeout(r, 20))
    const before = { ...log.reads }
    for (let i = 0; i < 20; i++) {
      log.append(`s${i * 37}`)
      await until(() => got.get(`s${i * 37}`)?.length === (i === 0 ? 2 : 1), `event ${i}`)
    }
    expect(log.reads.own - before.own, 'reads of their own by followers').to.equal(0)
    // One read per commit, and at most one more on a wake-up that found nothing new.
    expect(log.reads.tail - before.tail).to.be.within(20, 40)
    await Promise.all(subs.map((s) => s.close()))
  })

  it('should join a moving tail with no gap and no duplicate, positions having holes', async () => {
    const log = fakeLog()
    const early: number[] = []
    const first = log.tail.subscribe({}, (e) => void early.push(e.position))
    log.append('a', 700)
    const late: number[] = []
    const second = log.tail.subscribe({ fromPosition: 5 }, async (e) => {
      late.push(e.position)
      // Commits land while this one catches up, until its last read of its own.
      if (late.length % 100 === 0 && late.length <= 1_000) {
        log.append(`b${late.length}`, 30)
        await new Promise((r) => setTimeout(r, 1))
      }
    })
    const wanted = () => log.events.filter((e) => e.position >= 5).length
    await until(() => late.length === wanted() && early.length === log.events.length, 'every event')
    await new Promise((r) => setTimeout(r, 20))
    expect(late).to.deep.equal(log.events.filter((e) => e.position >= 5).map((e) => e.position))
    expect(early).to.deep.equal(log.events.map((e) => e.position))
    await Promise.all([first.close(), second.close()])
  })

  it('should let a stalled follower fall back to reading on its own past its buffer, then rejoin', async () => {
    const log = fakeLog()
    let release: () => void = () => {}
    const slow: number[] = []
    const stalled = log.tail.subscribe({ streamId: 'x' }, async (e) => {
      slow.push(e.version)
      if (slow.length === 1) await new Promise<void>((r) => (release = r))
    })
    const fast: number[] = []
    const other = log.tail.subscribe({ streamId: 'x' }, (e) => void fast.push(e.version))
    await new Promise((r) => setTimeout(r, 10))
    const count = 100 * Math.ceil((FOLLOWER_BUFFER * 3) / 100)
    for (let i = 0; i < count; i += 100) log.append('x', 100)
    await until(() => fast.length === count, 'the other follower to get everything')
    const ownBefore = log.reads.own
    release()
    await until(() => slow.length === count, 'the stalled one to catch up')
    expect(log.reads.own, 'it read on its own after falling behind').to.be.greaterThan(ownBefore)
    log.append('x')
    await until(() => slow.length === count + 1 && fast.length === count + 1, 'the next live event')
    expect(slow).to.deep.equal(Array.from({ length: count + 1 }, (_, i) => i + 1))
    expect(fast).to.deep.equal(slow)
    await Promise.all([stalled.close(), other.close()])
  })

  it('should stop reading once no subscription is left, and start again from the head', async () => {
    const log = fakeLog()
    log.append('a', 5)
    const got: number[] = []
    const sub = log.tail.subscribe({ streamId: 'a' }, (e) => void got.push(e.version))
    await until(() => got.length === 5, 'the past')
    await sub.close()
    const after = log.reads.tail
    log.append('a', 3)
    await new Promise((r) => setTimeout(r, 30))
    expect(log.reads.tail).to.equal(after)
    const again = log.tail.subscribe({ streamId: 'a', fromPosition: sub.nextPosition }, (e) => void got.push(e.version))
    log.append('a')
    await until(() => got.length === 9, 'the rest')
    expect(got).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9])
    await again.close()
  })
})
