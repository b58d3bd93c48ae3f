import { expect } from 'chai'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SqliteStore, type EventEnvelope, type NewEvent, type StorageAdapter } from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { dropSchema, freshSchema, PG_URL } from '../support/postgres.js'
import { tempDir } from '../support/tmp.js'
import { repoRoot, runCli } from './runCli.js'

let n = 0
function event(name: string, data: unknown): NewEvent {
  n++
  return { id: `ev-${n}`, name, data, schemaVersion: 1, at: 1_750_000_000_000 + n, meta: { actorType: 'Cart', correlationId: `c-${n % 3}` } }
}

async function all(store: StorageAdapter): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = []
  for await (const e of store.readAll()) out.push(e)
  return out
}

/** What must survive a trip between stores: everything but the position, which each store assigns. */
const portable = (e: EventEnvelope) => ({ id: e.id, streamId: e.streamId, version: e.version, name: e.name, data: e.data, schemaVersion: e.schemaVersion, at: e.at, meta: e.meta })

async function seed(store: StorageAdapter): Promise<void> {
  n = 0
  await store.append('cart-1', [event('item_added', { sku: 'apple', qty: 2 }), event('item_added', { sku: 'pear', qty: 1 })], { expectedVersion: 0 })
  await store.append('cart-2', [event('item_added', { sku: 'żółw 🐢', qty: 3 })], { expectedVersion: 0 })
  await store.append('cart-1', [event('item_removed', { sku: 'apple' }), event('checked_out', undefined)], { expectedVersion: 2 })
  await store.append('cart-2', [event('item_added', { sku: 'kiwi', qty: 5, note: { nested: [1, null, 'x'] } })], { expectedVersion: 1 })
}

describe('omniscient export / import', function () {
  this.timeout(60_000)
  let tmp: ReturnType<typeof tempDir>
  let source: string
  // The source's whole log as `omniscient export` wrote it, exported once (each run of the
  // command is a process start); each spec imports it, or the lines it needs, into its own store.
  let exported: string
  /** Lines of the export: all, or one stream's from a version on. */
  const linesOf = (streamId?: string, fromVersion = 1) =>
    exported
      .trim()
      .split('\n')
      .filter((l) => {
        const e = JSON.parse(l) as { streamId: string; version: number }
        return streamId === undefined || (e.streamId === streamId && e.version >= fromVersion)
      })
  const exportFile = () => {
    const file = join(tmp.dir, `log-${++n}.ndjson`)
    writeFileSync(file, exported)
    return file
  }
  before(async () => {
    tmp = tempDir('omniscient-cli-')
    source = join(tmp.dir, 'source.db')
    const store = new SqliteStore({ file: source })
    await seed(store)
    await store.close()
    const run = await runCli(['export', `sqlite:${source}`, '--quiet'])
    expect(run.code, run.stderr).to.equal(0)
    exported = run.stdout
  })
  after(() => tmp.remove())

  it('should export one envelope per line with a stable field order', async () => {
    const lines = linesOf()
    expect(lines).to.have.length(6)
    expect(Object.keys(JSON.parse(lines[0]!) as object)).to.deep.equal(['id', 'streamId', 'version', 'position', 'name', 'data', 'schemaVersion', 'at', 'meta'])
    // An event without data has no data field.
    expect(JSON.parse(lines[4]!)).to.not.have.property('data')
    const one = await runCli(['export', `sqlite:${source}`, '--stream', 'cart-2', '--quiet'])
    expect(one.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).to.deep.equal(['ev-3', 'ev-6'])
    const from = await runCli(['export', `sqlite:${source}`, '--from-position', '5', '--quiet'])
    expect(from.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { position: number }).position)).to.deep.equal([5, 6])
    const fromVersion = await runCli(['export', `sqlite:${source}`, '--stream', 'cart-1', '--from-version', '3', '--quiet'])
    expect(fromVersion.stdout.trim().split('\n')).to.deep.equal(linesOf('cart-1', 3))
  })

  it('should import an export into a fresh store with the same streams, versions, ids and data, and store nothing the second time', async () => {
    const file = join(tmp.dir, 'log.ndjson')
    expect((await runCli(['export', `sqlite:${source}`, '-o', file, '--quiet'])).code).to.equal(0)
    expect(readFileSync(file, 'utf8')).to.equal(exported)
    const target = join(tmp.dir, 'target.db')
    const first = await runCli(['import', `sqlite:${target}`, file, '--quiet'])
    expect(first.code, first.stderr).to.equal(0)
    expect(first.stdout).to.contain('imported 6 events of 2 streams: 6 stored, 0 already stored')
    const second = await runCli(['import', `sqlite:${target}`, file, '--quiet'])
    expect(second.stdout).to.contain('6 events of 2 streams: 0 stored, 6 already stored')
    const [a, b] = [new SqliteStore({ file: source }), new SqliteStore({ file: target })]
    expect((await all(b)).map(portable)).to.deep.equal((await all(a)).map(portable))
    await Promise.all([a.close(), b.close()])
  })

  it("should keep the file's order across streams", async () => {
    // One event a batch: A1 B1 A2 C1 A3 B2 must get positions in that order.
    const lines = [['a', 1], ['b', 1], ['a', 2], ['c', 1], ['a', 3], ['b', 2]].map(([s, v], i) =>
      JSON.stringify({ id: `o-${i}`, streamId: s, version: v, name: 'x', schemaVersion: 1, at: i, meta: {} }),
    )
    const target = join(tmp.dir, 'order.db')
    const run = await runCli(['import', `sqlite:${target}`, '--batch-size', '1', '--quiet'], { input: lines.join('\n') + '\n' })
    expect(run.code, run.stderr).to.equal(0)
    const store = new SqliteStore({ file: target })
    expect((await all(store)).map((e) => e.id)).to.deep.equal(['o-0', 'o-1', 'o-2', 'o-3', 'o-4', 'o-5'])
    await store.close()
  })

  it('should import a file edited with a transform (as with jq) into a fresh store', async () => {
    // Drop cart-2's events and rename a sku: what `jq -c 'select(.streamId == "cart-1") | ...'` does.
    const edited = exported
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { streamId: string; data?: { sku?: string } })
      .filter((e) => e.streamId === 'cart-1')
      .map((e) => JSON.stringify(e.data?.sku === 'pear' ? { ...e, data: { ...e.data, sku: 'quince' } } : e))
      .join('\n')
    const target = join(tmp.dir, 'edited.db')
    const run = await runCli(['import', `sqlite:${target}`, '--quiet'], { input: edited + '\n' })
    expect(run.code, run.stderr).to.equal(0)
    const store = new SqliteStore({ file: target })
    const events = await all(store)
    expect(events.map((e) => [e.streamId, e.version, e.id])).to.deep.equal([
      ['cart-1', 1, 'ev-1'],
      ['cart-1', 2, 'ev-2'],
      ['cart-1', 3, 'ev-4'],
      ['cart-1', 4, 'ev-5'],
    ])
    expect(events[1]!.data).to.deep.equal({ sku: 'quince', qty: 1 })
    await store.close()
  })

  it('should refuse a version gap with its line number and store nothing of that batch', async () => {
    const lines = linesOf('cart-1')
    const gap = [lines[0], lines[2], lines[3]].join('\n') + '\n'
    const target = join(tmp.dir, 'gap.db')
    const run = await runCli(['import', `sqlite:${target}`, '--quiet'], { input: gap })
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain('line 2 (stream "cart-1" version 3): follows version 1: versions 2..2 are missing [IMPORT_GAP]')
    const store = new SqliteStore({ file: target })
    expect(await store.streamVersion('cart-1')).to.equal(0)
    await store.close()
  })

  it("should refuse a gap after the store's stream with the line number", async () => {
    const target = join(tmp.dir, 'after.db')
    const run = await runCli(['import', `sqlite:${target}`, '--quiet'], { input: linesOf('cart-1', 3).join('\n') + '\n' })
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain("line 1 (stream \"cart-1\" version 3): the store's stream is at version 0, so versions 1..2 are missing [IMPORT_GAP]")
  })

  it('should refuse a version the store holds with another event, all or nothing for the batch', async () => {
    const target = join(tmp.dir, 'conflict.db')
    const store = new SqliteStore({ file: target })
    await store.append('cart-1', [{ ...event('item_added', { sku: 'other', qty: 1 }) }], { expectedVersion: 0 })
    await store.close()
    // Versions 1-4 of cart-1 in one batch: version 1 conflicts, so none of the four is stored.
    const run = await runCli(['import', `sqlite:${target}`, '--quiet'], { input: linesOf('cart-1').join('\n') + '\n' })
    expect(run.code).to.equal(1)
    expect(run.stderr).to.match(/line 1 \(stream "cart-1" version 1\): the store holds event "ev-\d+" at this version, the file "ev-1" \[IMPORT_CONFLICT\]/)
    const after = new SqliteStore({ file: target })
    expect(await after.streamVersion('cart-1')).to.equal(1)
    await after.close()
  })

  it('should refuse an event whose id is stored with other content', async () => {
    const file = exportFile()
    const target = join(tmp.dir, 'twice.db')
    await runCli(['import', `sqlite:${target}`, file, '--quiet'])
    writeFileSync(file, readFileSync(file, 'utf8').replace('"sku":"pear"', '"sku":"plum"'))
    const run = await runCli(['import', `sqlite:${target}`, file, '--quiet'])
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain('line 2 (stream "cart-1" version 2): event "ev-2" is stored with other content')
    expect(run.stderr).to.contain('[IMPORT_CONFLICT]')
  })

  it('should refuse a line that is not an envelope, naming the line and the field', async () => {
    const run = await runCli(['import', 'memory:', '--quiet'], {
      input: '{"id":"a","streamId":"s","version":1,"name":"x","schemaVersion":1,"at":1,"meta":{}}\n\n{"id":"b","streamId":"s","version":"2","name":"x","schemaVersion":1,"at":1}\n',
    })
    expect(run.code).to.equal(1)
    expect(run.stderr).to.contain('line 3 (stream "s"): version: Invalid input: expected number, received string [IMPORT_INVALID_LINE]')
    const json = await runCli(['import', 'memory:', '--quiet'], { input: '{"id":\n' })
    expect(json.stderr).to.contain('line 1: not JSON')
  })

  it('should check a file without storing anything with --dry-run', async () => {
    const target = join(tmp.dir, 'dry.db')
    const run = await runCli(['import', `sqlite:${target}`, '--dry-run', '--quiet'], { input: exported })
    expect(run.stdout).to.contain('checked 6 events of 2 streams: the file is valid')
    expect(() => readFileSync(target)).to.throw()
  })

  it('should end quietly when the reader closes the pipe early (| head)', async () => {
    const big = join(tmp.dir, 'big.db')
    const store = new SqliteStore({ file: big })
    const many = Array.from({ length: 20_000 }, (_, i) => ({ ...event('item_added', { sku: `sku-${i}`, qty: 1 }), id: `big-${i}` }))
    await store.append('cart-big', many, { expectedVersion: 0 })
    await store.close()
    const child = spawn(process.execPath, ['--conditions=omniscient-source', '--import', 'tsx', join(repoRoot, 'cli', 'main.ts'), 'export', `sqlite:${big}`, '--quiet'], { cwd: repoRoot })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(stderr).to.equal('')
    expect(code).to.equal(0)
  })

  const pgIt = PG_URL ? it : it.skip
  pgIt('should carry a SQLite log into PostgreSQL with the same streams, versions, ids and data; a second import stores nothing', async () => {
    const schema = freshSchema()
    const url = new URL(PG_URL!)
    url.searchParams.set('schema', schema)
    try {
      const file = exportFile()
      const first = await runCli(['import', url.toString(), file, '--quiet'])
      expect(first.code, first.stderr).to.equal(0)
      expect(first.stdout).to.contain('6 stored, 0 already stored')
      const second = await runCli(['import', url.toString(), file, '--quiet'])
      expect(second.stdout).to.contain('0 stored, 6 already stored')
      const sqlite = new SqliteStore({ file: source })
      const pg = new PgStore({ connectionString: PG_URL!, schema })
      // PostgreSQL may commit the two halves of a wave of batches in either order: compare by stream and version.
      const byStream = (events: EventEnvelope[]) => events.map(portable).sort((a, b) => (a.streamId === b.streamId ? a.version - b.version : a.streamId < b.streamId ? -1 : 1))
      expect(byStream(await all(pg))).to.deep.equal(byStream(await all(sqlite)))
      const streams = (await runCli(['streams', url.toString(), '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { streamId: string; version: number })
      expect(streams.map((s) => [s.streamId, s.version])).to.deep.equal([['cart-1', 4], ['cart-2', 2]])
      await Promise.all([sqlite.close(), pg.close()])
    } finally {
      await dropSchema(schema)
    }
  })
})
