import { expect } from 'chai'
import type { EventEnvelope } from 'omniscient-actors'
import { MemoryCopy } from 'omniscient-actors/sync'
import { CopyWriter } from '../../../lib/sync/local/CopyWriter.js'

const envelope = (streamId: string, version: number): EventEnvelope => ({
  id: `${streamId}-${version}`, streamId, version, position: version, name: 'n', data: version, schemaVersion: 1, at: 1, meta: {},
})

/** A MemoryCopy that records its writes in order. */
function recordingCopy(): MemoryCopy & { writes: string[] } {
  const copy = new MemoryCopy() as MemoryCopy & { writes: string[] }
  copy.writes = []
  const keep = copy.keep.bind(copy)
  copy.keep = (streamId, events) => {
    copy.writes.push(`keep ${streamId} ${events.map((e) => e.version).join(',')}`)
    return keep(streamId, events)
  }
  return copy
}

describe('CopyWriter', () => {
  it('should keep the live events of one turn in one write per stream', async () => {
    const copy = recordingCopy()
    const writer = new CopyWriter(copy)
    for (let v = 1; v <= 5; v++) writer.later(envelope('a', v))
    writer.later(envelope('b', 1))
    await new Promise((r) => setTimeout(r, 5))
    expect(copy.writes).to.deep.equal(['keep a 1,2,3,4,5', 'keep b 1'])
    expect(await copy.knownVersion('a')).to.equal(5)
  })

  it('should write what was gathered before a later write, such as a snapshot or a read page', async () => {
    const copy = recordingCopy()
    const writer = new CopyWriter(copy)
    writer.later(envelope('a', 1))
    writer.later(envelope('a', 2))
    const snapshot = writer.after(async () => void copy.writes.push('snapshot'))
    const page = writer.keep('a', [envelope('a', 3)])
    await Promise.all([snapshot, page])
    expect(copy.writes).to.deep.equal(['keep a 1,2', 'snapshot', 'keep a 3'])
    expect(await copy.knownVersion('a')).to.equal(3)
  })

  it('should go on after a failed write of live events (the copy is a cache)', async () => {
    const copy = recordingCopy()
    const keep = copy.keep.bind(copy)
    let fail = true
    copy.keep = (streamId, events) => (fail ? ((fail = false), Promise.reject(new Error('disk full'))) : keep(streamId, events))
    const writer = new CopyWriter(copy)
    writer.later(envelope('a', 1))
    await writer.flush()
    await writer.keep('a', [envelope('a', 1), envelope('a', 2)])
    expect(await copy.knownVersion('a')).to.equal(2)
  })
})
