import { r, type Connection, type RDatum } from 'rethinkdb-ts'

/**
 * A RethinkDB server to run the RethinkStore specs against, e.g.
 * `RETHINKDB_URL=rethinkdb://127.0.0.1:28015/omniscient_test npm run test:rethink`.
 * Without it those specs report as skipped.
 */
export const RETHINKDB_URL = process.env['RETHINKDB_URL']

let prefixes = 0
/** A table prefix no other test uses. */
export function freshPrefix(): string {
  return `t_${process.pid}_${Date.now() % 1_000_000}_${++prefixes}_`
}

/** Runs `work` on a throwaway connection (test set-up and clean-up only). */
async function withConnection<T>(work: (connection: Connection, db: string) => Promise<T>): Promise<T> {
  const url = new URL(RETHINKDB_URL!)
  const connection = await r.connect({ host: url.hostname, port: Number(url.port || 28015), silent: true })
  try {
    return await work(connection, url.pathname.slice(1) || 'omniscient')
  } finally {
    await connection.close()
  }
}

/** Test clean-up only: drops the tables of one prefix (by id, so that twins go too). */
export function dropTables(prefix: string): Promise<void> {
  return withConnection(async (connection, db) => {
    await r
      .db('rethinkdb')
      .table('table_config')
      .filter((t: RDatum) => t('db').eq(db).and(t('name').match(`^${prefix}`).ne(null)))
      .delete()
      .run(connection)
  })
}

/** Damages a stored snapshot, as a bad disk or a hand edit would. */
export function corruptSnapshot(prefix: string, actorType: string, streamId: string): Promise<void> {
  return withConnection(async (connection, db) => {
    await r.db(db).table(`${prefix}snapshots`).get([actorType, streamId]).update({ state: '{"a": 1' }).run(connection)
  })
}
