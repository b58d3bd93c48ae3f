import { createHash } from 'node:crypto'
import { expect } from 'chai'
import fc from 'fast-check'
import { derivedId, randomIds } from '../../lib/ids.js'

// The derivation ids were made with before the core left node:crypto: stored reactions keep
// their ids only if every platform derives exactly these.
function nodeDerivedId(...parts: string[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('ids', () => {
  describe('derivedId()', () => {
    it('should give the ids already stored by earlier versions (known values)', () => {
      expect(derivedId('0b6f3c1e-2f1a-4c8e-9d7b-5a4e3f2c1b0a', 'Game', 'room', 'player_respawned')).to.equal('485b4457-6c1e-1e14-ad8c-fcd558b8bcf6')
      expect(derivedId('évènement-💥', 'Jeu', 'salle \u2028', 'ré')).to.equal('3cf19b28-0e0b-e511-5e24-07119ccb0ad0')
    })

    it("should equal node:crypto's SHA-256 derivation for any strings", () => {
      fc.assert(
        fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 }), (parts) => {
          expect(derivedId(...parts)).to.equal(nodeDerivedId(...parts))
        }),
        { numRuns: 100 },
      )
    })
  })

  describe('randomIds()', () => {
    it('should make distinct version 4 UUIDs', () => {
      const ids = new Set(Array.from({ length: 100 }, () => randomIds()))
      expect(ids.size).to.equal(100)
      for (const id of ids) expect(id).to.match(UUID_V4)
    })

    it('should make them without crypto.randomUUID too (browsers outside https)', () => {
      Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
      try {
        const ids = new Set(Array.from({ length: 100 }, () => randomIds()))
        expect(ids.size).to.equal(100)
        for (const id of ids) expect(id).to.match(UUID_V4)
      } finally {
        delete (crypto as { randomUUID?: unknown }).randomUUID
      }
      expect(typeof crypto.randomUUID).to.equal('function')
    })
  })
})
