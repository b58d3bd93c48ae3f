import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { InvalidOptionsError, SqliteStore, StorageError, type SqliteStoreOptions } from 'omniscient-actors'
import { tempDir } from '../support/tmp.js'
import { collect, newEvent } from './conformance.js'

const openDescriptors = () => readdirSync('/proc/self/fd').length

describe('SqliteStore opening and losing its file', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => (tmp = tempDir()))
  afterEach(() => tmp.remove())

  ;(existsSync('/proc/self/fd') ? it : it.skip)('should release the file of a failed open: 50 failed opens leave no descriptor behind', () => {
    const file = join(tmp.dir, 'not-a-database.db')
    writeFileSync(file, 'this is a text file, not a SQLite database; '.repeat(100))
    const before = openDescriptors()
    for (let i = 0; i < 50; i++) {
      expect(() => new SqliteStore({ file })).to.throw(StorageError, /cannot open SQLite database/)
    }
    expect(openDescriptors()).to.equal(before)
  })

  it('should name the "file" option when it is missing or misspelt, and every option it takes', () => {
    const attempts: unknown[] = [undefined, {}, { filename: join(tmp.dir, 'x.db') }, { file: '' }, { file: 7 }]
    for (const options of attempts) {
      const make = () => new SqliteStore(options as SqliteStoreOptions)
      expect(make).to.throw(InvalidOptionsError, /"file"/)
      expect(make).to.throw(/durability, busyTimeoutMs, pollIntervalMs/)
    }
    expect(() => new SqliteStore({ file: join(tmp.dir, 'x.db'), durabilty: 'normal' } as SqliteStoreOptions)).to.throw(InvalidOptionsError, /unknown option "durabilty"/)
    expect(readdirSync(tmp.dir)).to.deep.equal([])
  })

  for (const how of ['deleted', 'replaced by another file'] as const) {
    it(`should refuse every call with STORE_FILE_GONE once its database file is ${how}`, async () => {
      const file = join(tmp.dir, 'store.db')
      const store = new SqliteStore({ file })
      try {
        await store.append('a', [newEvent()], { expectedVersion: 0 })
        if (how === 'deleted') {
          for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
        } else {
          const other = new SqliteStore({ file: join(tmp.dir, 'other.db') })
          await other.close()
          renameSync(join(tmp.dir, 'other.db'), file)
        }
        // The watcher hears of it within a turn or two of the event loop; the once-a-second
        // check of the group commit would within a second.
        let refused: unknown
        for (let i = 1; refused === undefined && i < 300; i++) {
          refused = await store.append('a', [newEvent()], { expectedVersion: 'any' }).then(() => undefined, (err: unknown) => err)
          if (refused === undefined) await new Promise((r) => setTimeout(r, 10))
        }
        expect(refused).to.be.instanceOf(StorageError).and.to.have.property('code', 'STORE_FILE_GONE')
        expect((refused as Error).message).to.include(file)
        const read = await collect(store.readStream('a')).catch((err: unknown) => err)
        expect(read).to.have.property('code', 'STORE_FILE_GONE')
      } finally {
        await store.close()
      }
    })
  }
})
