import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'chai'
import { z } from 'zod'
import {
  Actor,
  EventDecodeError,
  LiveActor,
  OutageError,
  SqliteStore,
  createContainer,
  defineEvents,
  type Container,
  type EventData,
  type StorageAdapter,
} from 'omniscient-actors'
import { PgStore } from 'omniscient-actors/postgres'
import { PG_URL, dropSchema, freshSchema, sql } from '../support/postgres.js'
import { tempDir } from '../support/tmp.js'

const AccountEvents = defineEvents({ added: z.object({ n: z.number() }) })

class Account extends LiveActor<typeof AccountEvents, { seen: number[] }> {
  static events = AccountEvents
  constructor(id: string, c: Container) {
    super(id, c)
    this._state.seen = []
  }
  added(data: EventData<typeof AccountEvents, 'added'>) {
    this._state.seen.push(data.n)
  }
}

/** Hears the account's events through a durable listener. */
class Auditor extends Actor<typeof AccountEvents> {
  static events = AccountEvents
  readonly heard: number[] = []
  constructor(id: string, c: Container) {
    super(id, c)
    this.ListenTo('acct', (e) => void this.heard.push((e.data as { n: number }).n), { durable: 'auditor' })
  }
}

/** An engine the damage is done on with its own SQL, beside the store. */
interface Engine {
  readonly name: string
  open(): Promise<{ store: StorageAdapter; exec: (text: string, params: unknown[]) => Promise<void>; dispose: () => Promise<void> }>
}

const engines: Engine[] = [
  {
    name: 'SqliteStore',
    async open() {
      const tmp = tempDir()
      const file = join(tmp.dir, 'damaged.db')
      const store = new SqliteStore({ file })
      const raw = new Database(file)
      return {
        store,
        exec: async (text, params) => void raw.prepare(text.replaceAll('$T.', '').replace(/\$\d/g, '?')).run(...params),
        dispose: async () => {
          raw.close()
          tmp.remove()
        },
      }
    },
  },
  ...(PG_URL
    ? [
        {
          name: 'PgStore',
          async open() {
            const schema = freshSchema()
            const store = new PgStore({ connectionString: PG_URL!, schema })
            await store.headPosition() // creates the schema
            return { store, exec: (text: string, params: unknown[]) => sql(text.replaceAll('$T.', `"${schema}".`), params), dispose: () => dropSchema(schema) }
          },
        },
      ]
    : []),
]

const insertRow = 'INSERT INTO $T.events (id, stream_id, version, name, data, schema_version, at, meta) VALUES ($1, $2, $3, $4, $5, 1, 0, $6)'

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

for (const engine of engines) describe(`A damaged event row on ${engine.name}`, function () {
  this.timeout(30_000)
  let env: Awaited<ReturnType<Engine['open']>>
  let reported: unknown[]
  let container: Container
  beforeEach(async () => {
    env = await engine.open()
    reported = []
    container = createContainer({ store: env.store, report: (err) => reported.push(err) })
  })
  afterEach(async () => {
    await container.close()
    await env.dispose()
  })

  async function positionOf(version: number): Promise<number> {
    for await (const e of env.store.readAll()) if (e.streamId === 'acct' && e.version === version) return e.position
    throw new Error(`no version ${version}`)
  }

  it('should make Load reject with EventDecodeError naming the stream, version, position and field', async () => {
    const writer = await new Account('acct', container).Load()
    await writer.Fire('added', { n: 1 })
    await writer.Fire('added', { n: 2 })
    await writer.Stop()
    const position = await positionOf(2)
    await env.exec("UPDATE $T.events SET data = '{\"n\": 2' WHERE stream_id = 'acct' AND version = 2", [])
    const err = await new Account('acct', container).Load().then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(EventDecodeError).and.include({ code: 'EVENT_DECODE', streamId: 'acct', version: 2, position, field: 'data' })
    expect((err as Error).message).to.include('version 2 of "acct"').and.include(`position ${position}`)

    await env.exec("UPDATE $T.events SET data = '{\"n\": 2}', meta = '[1]' WHERE stream_id = 'acct' AND version = 2", [])
    const metaErr = await new Account('acct', container).Load().then(() => undefined, (e: unknown) => e)
    expect(metaErr).to.be.instanceOf(EventDecodeError).and.include({ version: 2, field: 'meta' })
  })

  it('should stop a LiveActor at the damaged row with a report and a status, and resume when it is repaired', async () => {
    const follower = await new Account('acct', container).Load()
    await follower.Fire('added', { n: 1 })
    await env.exec(insertRow, ['damaged', 'acct', 2, 'added', '{"n": 2', '{}'])
    await env.exec(insertRow, ['after', 'acct', 3, 'added', '{"n": 3}', '{}'])
    await until(() => follower.Stuck !== undefined, 'the follower to say it is stuck')
    expect(follower.Following).to.equal(false)
    expect(follower.Stuck!.error).to.be.instanceOf(EventDecodeError).and.include({ streamId: 'acct', version: 2 })
    // It keeps retrying, and reports the run of failures once, not at every retry.
    await until(() => follower.Stuck!.failures >= 3, 'a few retries')
    expect(reported.filter((e) => e instanceof EventDecodeError)).to.have.length(1)
    expect(follower._state.seen).to.deep.equal([1])

    await env.exec('UPDATE $T.events SET data = $1 WHERE id = $2', ['{"n": 2}', 'damaged'])
    await until(() => follower.version === 3, 'the follower to apply the repaired row and the next')
    expect(follower._state.seen).to.deep.equal([1, 2, 3])
    expect(follower.Following).to.equal(true)
    expect(follower.Stuck).to.equal(undefined)
    const outage = reported.find((e) => e instanceof OutageError)
    expect(outage).to.be.instanceOf(OutageError)
    expect((outage as OutageError).failures).to.be.greaterThan(1)
    expect(reported).to.have.length(2)
  })

  it('should stop a durable listener at the damaged row with a report and a status, and resume when it is repaired', async () => {
    const writer = await new Account('acct', container).Load()
    await writer.Fire('added', { n: 1 })
    await writer.Stop() // a LiveActor would meet the row too: here only the listener does
    const auditor = await new Auditor('auditor', container).Load()
    await until(() => auditor.heard.length === 1, 'the first event')
    await env.exec(insertRow, ['damaged', 'acct', 2, 'added', '{"n": 2}', '{"actorType":'])
    await until(() => auditor.Stuck !== undefined, 'the listener to say it is stuck')
    expect(auditor.Stuck!.error).to.be.instanceOf(EventDecodeError).and.include({ streamId: 'acct', version: 2, field: 'meta' })
    expect(auditor.Stuck!.where).to.include('durable "auditor"')
    await until(() => auditor.Stuck!.failures >= 3, 'a few retries')
    expect(reported.filter((e) => e instanceof EventDecodeError)).to.have.length(1)

    await env.exec('UPDATE $T.events SET meta = $1 WHERE id = $2', ['{}', 'damaged'])
    await until(() => auditor.heard.length === 2, 'the repaired event')
    expect(auditor.heard).to.deep.equal([1, 2])
    await until(() => auditor.Stuck === undefined, 'the status to clear once the event is checkpointed')
    await auditor.Stop() // once the event being handled is checkpointed
    expect(await env.store.loadCheckpoint('auditor')).to.equal(await positionOf(2))
  })
})
