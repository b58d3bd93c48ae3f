import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { runDemo } from './demo.js'

// A port the system says is free now (a random pick could meet a throwaway PostgreSQL's).
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('examples/devices', function () {
  this.timeout(60_000)

  it('should show a payment on the other device, and land offline payments once, across a restart of the device', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omniscient-devices-'))
    try {
      const result = await runDemo(join(dir, 'data'), await freePort(), true)
      expect(result.lives).to.equal(12)
      expect(result.storedIds).to.have.length(4)
      expect(new Set(result.storedIds).size).to.equal(4)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
