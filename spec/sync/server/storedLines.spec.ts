import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { EventDecodeError } from 'omniscient-actors'
import { sendStoredNdjson, storedLine } from '../../../lib/sync/server/storedLines.js'
import { envelopeReader, parseWireJson } from '../../../lib/sync/protocol.js'
import { readsStoredText, type StoredEventText } from '../../../lib/store/kit/storedText.js'
import { collect, newEvent } from '../../store/conformance.js'
import { freshTarget, openStore, storeKinds } from '../../support/openStore.js'
import { waitUntil } from '../../support/processes.js'

const row = (fields: Partial<StoredEventText>): StoredEventText => ({
  position: 7, id: 'e-7', streamId: 'player-1', version: 3, name: 'scored', data: '{"n":1}', schemaVersion: 1, at: 1_700_000_000_000, meta: '{"actorType":"Player"}', ...fields,
})

describe('storedLines (catch-up from the stored text)', () => {
  for (const kind of storeKinds.filter((k) => k.name !== 'RethinkStore')) {
    describe(`on ${kind.name}`, () => {
      const where = freshTarget(kind)

      it('should send each event as the same envelope the store\'s own readAll gives', async () => {
        const store = openStore(where.target)
        try {
          if (!readsStoredText(store)) throw new Error(`${kind.name} does not read stored text`)
          await store.append('s-1', [newEvent('a', { nested: { list: [1, 'two', null] }, text: 'é "quoted" \u2028' }), newEvent('b', undefined), newEvent('c', 0)], { expectedVersion: 0 })
          await store.append('s-2', [{ ...newEvent('d', 'x'), meta: { actorType: 'Other', correlationId: 'c-1' } }], { expectedVersion: 0 })
          const local = await collect(store.readAll())
          const rows = await store.readStoredText(1, 10)
          const text = rows.map(storedLine).join('')
          expect(text.split('\n')).to.have.length(5)
          const read = envelopeReader()
          const wire = text.trim().split('\n').map((line) => read(parseWireJson(line)))
          expect(wire).to.deep.equal(local)
          expect('data' in wire[1]!).to.equal(true)
          // Pages: a limit and a start position.
          const second = local[1]!.position
          expect((await store.readStoredText(second, 2)).map((r) => r.position)).to.deep.equal([second, local[2]!.position])
        } finally {
          await store.close()
        }
      })
    })
  }

  it('should keep one event on one line when the stored text holds a raw newline (a row edited by hand)', () => {
    const line = storedLine(row({ data: '{\n  "n": 1\n}', meta: '{\n"actorType":"Player"}' }))
    expect(line.indexOf('\n')).to.equal(line.length - 1)
    expect(parseWireJson(line)).to.deep.include({ data: { n: 1 }, meta: { actorType: 'Player' } })
  })

  it('should stop with an EventDecodeError naming the row when such text is not JSON', () => {
    expect(() => storedLine(row({ data: '{"n":\n' }))).to.throw(EventDecodeError).with.property('streamId', 'player-1')
  })

  it("should let the envelope's own fields win over keys smuggled into the stored text", () => {
    const parsed = parseWireJson(storedLine(row({ data: '1,"streamId":"admin-1","position":1' }))) as StoredEventText
    expect(parsed).to.include({ streamId: 'player-1', position: 7, data: 1 })
  })
})

describe('envelopeReader', () => {
  it('should share one frozen meta between consecutive equal metas, and copy a different one', () => {
    const read = envelopeReader()
    const base = { id: 'e', streamId: 's', version: 1, position: 1, name: 'n', schemaVersion: 1, at: 1 }
    const [a, b, c, d, e] = [
      { ...base, meta: { actorType: 'A' } },
      { ...base, meta: { actorType: 'A' } },
      { ...base, meta: { actorType: 'A', extra: 1 } },
      { ...base, meta: { actorType: 'A', extra: { deep: 1 } } },
      { ...base, meta: { actorType: 'A', extra: { deep: 1 } } },
    ].map(read)
    expect(b!.meta).to.equal(a!.meta)
    expect(Object.isFrozen(a!.meta)).to.equal(true)
    expect(c!.meta).to.deep.equal({ actorType: 'A', extra: 1 })
    expect(c!.meta).to.not.equal(a!.meta)
    expect(e!.meta).to.not.equal(d!.meta)
    expect(e!.meta).to.deep.equal({ actorType: 'A', extra: { deep: 1 } })
  })
})

describe('sendStoredNdjson', () => {
  it('should stop reading the log once its client has left, though the read filter keeps nothing', async () => {
    // An endless log (a full page each read) of events the client may not read.
    const page = Array.from({ length: 4096 }, (_, i) => row({ position: i + 1 }))
    let pages = 0
    const endless = {
      async readStoredText(): Promise<readonly StoredEventText[]> {
        pages++
        await new Promise((r) => setTimeout(r, 2))
        return pages > 2_000 ? [] : page
      },
    }
    let finished!: () => void
    const served = new Promise<void>((resolve) => (finished = resolve))
    const server = createServer((_req, res) => void sendStoredNdjson(res, endless, 1, () => false).finally(finished))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const leaving = new AbortController()
      const asked = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: leaving.signal }).catch(() => undefined)
      await waitUntil(() => pages >= 3, 5_000, 'a few pages read')
      leaving.abort()
      await asked
      await served
      expect(pages, 'pages read in all').to.be.lessThan(50)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
