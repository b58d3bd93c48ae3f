import pg from 'pg'

/** The throwaway server's URL, set by scripts/with-postgres.sh (npm run test:pg, .ci/run). */
export const PG_URL = process.env['PG_URL']

let schemas = 0
/** A schema name no other test uses. */
export function freshSchema(): string {
  return `t_${process.pid}_${Date.now() % 1_000_000}_${++schemas}`
}

/** Test clean-up only: the library itself never drops anything. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  } finally {
    await client.end()
  }
}

/** Runs raw SQL against a schema's tables (to damage a snapshot, say). */
export async function sql(text: string, params: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(text, params)
  } finally {
    await client.end()
  }
}
