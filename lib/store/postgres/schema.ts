import type { PoolClient } from 'pg'

/** Double-quotes an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

// Appends are serialised by one transaction-level advisory lock, taken inside append_group
// and held until its commit. Positions (a sequence) are therefore assigned in commit order: a
// reader that sees position n has seen every committed position below it, and never has to
// wait for, or skip past, a position a slower concurrent transaction would commit later.
// Rolled-back appends leave gaps in the sequence, which the contract allows.
const APPEND_LOCK = 0x6f6d6e69 // "omni"

/** The migrations, in order; each runs once per schema, recorded in schema_migrations. */
function migrations(s: string): string[] {
  return [
    `
CREATE TABLE ${s}.events (
  position       BIGSERIAL PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  stream_id      TEXT    NOT NULL,
  version        INTEGER NOT NULL,
  name           TEXT    NOT NULL,
  data           TEXT    NOT NULL,
  schema_version INTEGER NOT NULL,
  at             BIGINT  NOT NULL,
  meta           TEXT    NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE ${s}.snapshots (
  actor_type       TEXT    NOT NULL,
  stream_id        TEXT    NOT NULL,
  snapshot_version INTEGER NOT NULL,
  version          INTEGER NOT NULL,
  state            TEXT    NOT NULL,
  at               BIGINT  NOT NULL,
  PRIMARY KEY (actor_type, stream_id)
);
CREATE TABLE ${s}.checkpoints (name TEXT PRIMARY KEY, position BIGINT NOT NULL);
CREATE TABLE ${s}.leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, term INTEGER NOT NULL, expires_at BIGINT NOT NULL);

-- One call appends a whole group (group commit), each append in its own subtransaction so
-- that a refused one leaves the others intact. Returns one result per append.
CREATE FUNCTION ${s}.append_group(works jsonb, channel text) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  w jsonb;
  results jsonb := '[]'::jsonb;
  current_version integer;
  current_term integer;
  stored jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(${APPEND_LOCK});
  FOR w IN SELECT value FROM jsonb_array_elements(works) LOOP
    BEGIN
      IF w ? 'leaseName' THEN
        SELECT term INTO current_term FROM ${s}.leases WHERE name = w->>'leaseName' FOR SHARE;
        IF current_term IS DISTINCT FROM (w->>'leaseTerm')::integer THEN
          results := results || jsonb_build_array(jsonb_build_object('error', 'lease', 'currentTerm', coalesce(current_term, 0)));
          CONTINUE;
        END IF;
      END IF;
      SELECT coalesce(max(version), 0) INTO current_version FROM ${s}.events WHERE stream_id = w->>'streamId';
      IF w->>'expected' <> 'any' AND (w->>'expected')::integer <> current_version THEN
        results := results || jsonb_build_array(jsonb_build_object('error', 'version', 'actual', current_version));
        CONTINUE;
      END IF;
      WITH inserted AS (
        INSERT INTO ${s}.events (id, stream_id, version, name, data, schema_version, at, meta)
        SELECT e->>'id', w->>'streamId', current_version + n::integer, e->>'name', e->>'data',
               (e->>'schemaVersion')::integer, (e->>'at')::bigint, e->>'meta'
        FROM jsonb_array_elements(w->'events') WITH ORDINALITY AS t(e, n)
        RETURNING position, version
      )
      SELECT jsonb_agg(position ORDER BY version) INTO stored FROM inserted;
      results := results || jsonb_build_array(jsonb_build_object('positions', stored, 'firstVersion', current_version + 1));
    EXCEPTION WHEN unique_violation THEN
      results := results || jsonb_build_array(jsonb_build_object('error', 'duplicate'));
    END;
  END LOOP;
  -- Delivered at commit: a wake-up for live subscriptions in every process.
  PERFORM pg_notify(channel, '');
  RETURN results;
END
$fn$;
`,
  ]
}

/**
 * Creates the schema and runs the migrations it has not run yet. Several processes starting
 * at once are safe: the whole step holds a session advisory lock named after the schema.
 * Migrations only ever add; nothing here drops anything.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  const s = ident(schema)
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [`omniscient-migrate:${schema}`])
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now())`)
    const done = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`)
    const applied = done.rows[0]?.v ?? 0
    const all = migrations(s)
    for (let version = applied + 1; version <= all.length; version++) {
      await client.query('BEGIN')
      try {
        await client.query(all[version - 1]!)
        await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [version])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw err
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`omniscient-migrate:${schema}`])
  }
}
