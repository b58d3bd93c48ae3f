import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { runDemo } from './demo.js'

describe('examples/devices', function () {
  this.timeout(60_000)

  it('should show a payment on the other device, and land an offline payment once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omniscient-devices-'))
    try {
      const result = await runDemo(join(dir, 'data'), 20_000 + Math.floor(Math.random() * 20_000), true)
      expect(result.lives).to.equal(11)
      expect(result.storedIds).to.have.length(3)
      expect(new Set(result.storedIds).size).to.equal(3)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
