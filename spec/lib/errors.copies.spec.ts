import { expect } from 'chai'
import { cpSync, symlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as here from 'omniscient-actors'
import * as hereRead from 'omniscient-actors/read'
import * as hereSync from 'omniscient-actors/sync'
import * as hereServer from 'omniscient-actors/sync-server'
import { tempDir } from '../support/tmp.js'
import { startSyncServer, type SyncServerHarness } from '../sync/syncServer.js'

// A second copy of the package's sources in another folder, loaded beside this one: what a
// bundle next to node_modules, two versions in a monorepo or a dynamic import of another path
// give. Its classes are other objects than this copy's, with the same names and codes.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
type Core = typeof here

describe('errors from another copy of the package', function () {
  this.timeout(60_000)
  let folder: { dir: string; remove(): void }
  let other: Core
  // Every entry point's exports, this copy's and the other's.
  let mine: Record<string, unknown>
  let theirs: Record<string, unknown>
  before(async () => {
    folder = tempDir('omniscient-copy-')
    cpSync(join(root, 'lib'), join(folder.dir, 'lib'), { recursive: true })
    symlinkSync(join(root, 'node_modules'), join(folder.dir, 'node_modules'), 'dir')
    const load = async (path: string) => (await import(pathToFileURL(join(folder.dir, 'lib', path)).href)) as Record<string, unknown>
    other = (await load('index.ts')) as Core
    theirs = { ...other, ...(await load('read/index.ts')), ...(await load('sync/index.ts')), ...(await load('sync/server/index.ts')) }
    mine = { ...here, ...hereRead, ...hereSync, ...hereServer }
  })
  after(() => folder.remove())

  it('should be another copy: its classes are not this copy\'s', () => {
    expect(other.ConcurrencyError).to.not.equal(here.ConcurrencyError)
    expect(Object.getPrototypeOf(new other.ConcurrencyError('s', 1, 2))).to.not.equal(here.ConcurrencyError.prototype)
  })

  it('should be an instance of the same-named class and its bases in this copy, and of no other', () => {
    const theirs = new other.IdempotencyError('e-1', 'taken')
    expect(theirs).to.be.instanceOf(here.IdempotencyError)
    expect(theirs).to.be.instanceOf(here.StorageError)
    expect(theirs).to.be.instanceOf(here.OmniscientError)
    expect(theirs).to.be.instanceOf(Error)
    expect(theirs).to.not.be.instanceOf(here.ConcurrencyError)
    expect(theirs).to.not.be.instanceOf(here.InvalidArgumentError)
    expect(here.isOmniscientError(theirs)).to.equal(true)
    expect(here.isConcurrencyError(new other.ConcurrencyError('s', 1, 2))).to.equal(true)
    expect(here.isConcurrencyError(theirs)).to.equal(false)
    // And the other way round.
    expect(new here.LeaseLostError('L', 1, 2)).to.be.instanceOf(other.LeaseLostError)
    expect(new here.LeaseLostError('L', 1, 2)).to.not.be.instanceOf(other.StorageError)
  })

  it('should recognise every error class the package exports', () => {
    const classes = Object.entries(theirs).filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof other.OmniscientError)
    expect(classes.length).to.be.greaterThan(20)
    for (const [name, Class] of classes) {
      // Arrays fit every constructor's arguments well enough to build one.
      const error = new (Class as new (...args: unknown[]) => Error)([], [], [], [], [])
      expect(error, name).to.be.instanceOf(mine[name])
      expect(error, name).to.be.instanceOf(here.OmniscientError)
    }
    // Not every plain object with a code: only an error that carries the lineage.
    expect({ code: 'CONCURRENCY', name: 'ConcurrencyError' }).to.not.be.instanceOf(here.ConcurrencyError)
    expect(Object.assign(new Error('x'), { code: 'CONCURRENCY' })).to.not.be.instanceOf(here.OmniscientError)
  })

  describe('served by the sync server of this copy from a store of the other', () => {
    let server: SyncServerHarness
    afterEach(() => server.dispose())

    it('should answer a version conflict with 409 CONCURRENCY, not 503', async () => {
      server = await startSyncServer({ store: new other.MemoryStore() as unknown as here.StorageAdapter })
      const events = (id: string) => [{ id, name: 'happened', data: {}, schemaVersion: 1, at: 1, meta: {} }]
      await server.container.store.append('s-1', events('a'), { expectedVersion: 0 })
      const response = await fetch(`${server.url}/streams/s-1/events`, {
        method: 'POST',
        headers: { Authorization: 'Bearer token-alice', 'Content-Type': 'application/json' },
        body: JSON.stringify({ expectedVersion: 0, events: events('b') }),
      })
      expect(response.status).to.equal(409)
      expect(((await response.json()) as { error: { code: string } }).error).to.include({ code: 'CONCURRENCY', actualVersion: 1 })
    })

    it('should give a RemoteStore the same typed refusals as a local store', async () => {
      server = await startSyncServer({ store: new other.MemoryStore() as unknown as here.StorageAdapter })
      const remote = new hereSync.RemoteStore({ url: server.url, token: 'token-alice', offline: false })
      try {
        const event = (id: string) => ({ id, name: 'happened', data: {}, schemaVersion: 1, at: 1, meta: {} })
        await remote.append('s-1', [event('a')], { expectedVersion: 0 })
        const conflict = await remote.append('s-1', [event('b')], { expectedVersion: 0 }).catch((e: unknown) => e)
        expect(conflict).to.be.instanceOf(here.ConcurrencyError).and.include({ code: 'CONCURRENCY', actualVersion: 1 })
        const reused = await remote.append('s-2', [event('a')], { expectedVersion: 0 }).catch((e: unknown) => e)
        expect(reused).to.be.instanceOf(here.IdempotencyError).and.include({ code: 'IDEMPOTENCY' })
      } finally {
        await remote.close()
      }
    })
  })
})
