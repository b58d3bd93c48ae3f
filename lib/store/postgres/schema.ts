import type { PoolClient } from 'pg'

/** Double-quotes an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

// The appends to one schema are serialised by a transaction-level advisory lock named after
// the schema, taken inside both append functions and held until commit. Positions (a
// sequence) are therefore assigned in commit order: a reader that sees position n has seen
// every committed position below it, and never has to wait for, or skip past, a position a
// slower concurrent transaction would commit later. Rolled-back appends leave gaps in the
// sequence, which the contract allows. Stores on other schemas of the database have locks of
// their own and append in parallel.
//
// Until migration 3 the lock was one key for the whole database, APPEND_LOCK. The functions
// still hold that key, shared: shared holds do not block each other, but they do block a
// function of an earlier release (during a rolling upgrade, or on a schema not migrated yet),
// which takes it exclusively, so that it never commits alongside an append of this release.
const APPEND_LOCK = 0x6f6d6e69 // "omni"
// The first key of the two-key form (which never meets the one-key form); the second is a hash
// of the schema's name.
const SCHEMA_APPEND_LOCK = 0x6f6d6e6a

/** The locks each append function takes first. */
function appendLocks(schemaName: string): string {
  return `
  PERFORM pg_advisory_xact_lock_shared(${APPEND_LOCK});
  PERFORM pg_advisory_xact_lock(${SCHEMA_APPEND_LOCK}, hashtext('${schemaName.replace(/'/g, "''")}'));`
}

/** The migrations, in order; each runs once per schema, recorded in schema_migrations. */
function migrations(schemaName: string): string[] {
  const s = ident(schemaName)
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

${appendGroupFunction(s, schemaName)}
`,
    // Ids and stream ids compare byte by byte: they are identifiers, not words, and the locale's
    // collation made every index comparison on them slower (and ties their indexes to the C
    // library's sort rules, which an OS upgrade may change). Rebuilds the two indexes.
    `
ALTER TABLE ${s}.events ALTER COLUMN id TYPE TEXT COLLATE "C", ALTER COLUMN stream_id TYPE TEXT COLLATE "C";
${appendGroupFunction(s, schemaName)}
`,
    // The fast path for the usual group, and the append lock per schema. append_group stays,
    // for the other groups and for the processes of the previous release during a rolling
    // upgrade (they call it on the server, which now runs this text). The database-wide lock
    // held here lets the appends still running the previous text finish first.
    `
SELECT pg_advisory_xact_lock(${APPEND_LOCK});
${appendGroupFunction(s, schemaName)}
${appendDistinctStreamsFunction(s, schemaName)}
`,
  ]
}

/**
 * The usual group, each append on its own stream, in one statement. The client sends any
 * other group to append_group. Differences with append_group, each measured on 200-append
 * groups (docs/benchmarks.md):
 * - arrays instead of one jsonb document: the server no longer parses every event twice (the
 *   document, then each field out of it);
 * - ids are not looked up before the insert: an id already stored fails the whole statement on
 *   the unique index (SQLSTATE 23505) and the client sends the group again through
 *   append_group, which checks each append's ids. Stored ids come back only with retries after
 *   a lost answer; a look-up for every event cost more than these rare second tries.
 * Appends refused on their lease term or expected version insert nothing; the others go on.
 * Returns, per append, the refusal (NULL when stored) and the stream's version (or the lease's
 * term when refused for it), and the stored events' positions in append then event order.
 */
function appendDistinctStreamsFunction(s: string, schemaName: string): string {
  return `
CREATE OR REPLACE FUNCTION ${s}.append_distinct_streams(
  stream_ids text[], expected_versions integer[], lease_names text[], lease_terms integer[],
  event_owners integer[], event_ordinals integer[], event_ids text[], event_names text[], event_datas text[],
  event_schema_versions integer[], event_ats bigint[], event_metas text[], channel text,
  OUT errors text[], OUT versions integer[], OUT positions bigint[]
)
LANGUAGE plpgsql
-- One plan per connection, kept: planned afresh for every call, as PL/pgSQL would by default
-- since each call brings arrays of another length, the statement's planning cost more than
-- running it for a group of one (sequential Fire: about 1,300/s planned each time, 2,000/s kept).
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
${appendLocks(schemaName)}
  IF lease_names IS NOT NULL THEN
    -- Leases named in the group stay as they are until this transaction commits.
    PERFORM 1 FROM ${s}.leases WHERE name = ANY (lease_names) FOR SHARE;
  END IF;
  -- unnest pads a shorter (or NULL) array with NULLs: a group without leases sends none.
  WITH appends AS MATERIALIZED (
    -- Materialised: each stream's version is looked up once, not once per use below.
    SELECT a.*, coalesce((SELECT max(e.version) FROM ${s}.events e WHERE e.stream_id = a.stream_id), 0) AS current_version,
           CASE WHEN a.lease_name IS NULL THEN NULL ELSE (SELECT l.term FROM ${s}.leases l WHERE l.name = a.lease_name) END AS current_term
    FROM unnest(stream_ids, expected_versions, lease_names, lease_terms) WITH ORDINALITY AS a(stream_id, expected, lease_name, lease_term, i)
  ), judged AS (
    SELECT appends.*, CASE
      WHEN lease_name IS NOT NULL AND current_term IS DISTINCT FROM lease_term THEN 'lease'
      WHEN expected IS NOT NULL AND expected <> current_version THEN 'version'
    END AS error
    FROM appends
  ), inserted AS (
    -- Rows in append then event order, so within a stream positions follow versions.
    INSERT INTO ${s}.events (id, stream_id, version, name, data, schema_version, at, meta)
    SELECT ev.id, j.stream_id, j.current_version + ev.ordinal, ev.name, ev.data, ev.schema_version, ev.at, ev.meta
    FROM unnest(event_owners, event_ordinals, event_ids, event_names, event_datas, event_schema_versions, event_ats, event_metas)
           WITH ORDINALITY AS ev(owner, ordinal, id, name, data, schema_version, at, meta, k)
    JOIN judged j ON j.i = ev.owner
    WHERE j.error IS NULL
    ORDER BY ev.k
    RETURNING position, stream_id, version
  )
  SELECT array_agg(j.error ORDER BY j.i),
         array_agg(CASE WHEN j.error = 'lease' THEN coalesce(j.current_term, 0) ELSE j.current_version END ORDER BY j.i),
         -- Matched by stream, which is unique in the group; not by the order rows came back in.
         (SELECT array_agg(ins.position ORDER BY jj.i, ins.version) FROM inserted ins JOIN judged jj ON jj.stream_id = ins.stream_id)
  INTO errors, versions, positions
  FROM judged j;
  -- Delivered at commit: a wake-up for live subscriptions in every process.
  PERFORM pg_notify(channel, '');
END
$fn$;
`
}

/** The current append_group; every migration that changes it runs this text again. */
function appendGroupFunction(s: string, schemaName: string): string {
  return `
-- One call appends a whole group (group commit). Under the append lock nothing else writes
-- events, so each append's checks (lease term, version, ids not yet stored) are decided before
-- it inserts: a refused append inserts nothing and the others go on, without the cost of a
-- subtransaction per append. Returns one result per append.
CREATE OR REPLACE FUNCTION ${s}.append_group(works jsonb, channel text) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
  w jsonb;
  results jsonb := '[]'::jsonb;
  current_version integer;
  current_term integer;
  stored jsonb;
  event_id text;
  duplicate boolean;
BEGIN
${appendLocks(schemaName)}
  -- Leases named in the group stay as they are until this transaction commits.
  PERFORM 1 FROM ${s}.leases WHERE name IN (SELECT value->>'leaseName' FROM jsonb_array_elements(works)) FOR SHARE;
  IF (SELECT count(*) > 1 AND count(DISTINCT value->>'streamId') = count(*) FROM jsonb_array_elements(works)) THEN
    -- The usual group, each append on its own stream: judged and inserted set-wise in one
    -- statement (PL/pgSQL's per-statement cost dominated the loop below). Rows are inserted in
    -- append order, so within a stream positions follow versions.
    WITH w AS (
      SELECT ord AS i, value->>'streamId' AS sid, value->>'expected' AS exp,
             value->>'leaseName' AS lname, (value->>'leaseTerm')::integer AS lterm, value->'events' AS evs,
             jsonb_array_length(value->'events') AS event_count
      FROM jsonb_array_elements(works) WITH ORDINALITY AS t(value, ord)
    ), cur AS MATERIALIZED (
      -- Materialised: each stream's version is looked up once, not once per use below; a
      -- lease only when the append names one.
      SELECT w.*, coalesce((SELECT max(e.version) FROM ${s}.events e WHERE e.stream_id = w.sid), 0) AS v,
             CASE WHEN w.lname IS NULL THEN NULL ELSE (SELECT l.term FROM ${s}.leases l WHERE l.name = w.lname) END AS term
      FROM w
    ), ids AS (
      -- Only appends of several events are checked for stored ids beforehand (all or none of
      -- them must go in); a single event is skipped by its insert's own unique check instead.
      SELECT w.i, x->>'id' AS id FROM w, jsonb_array_elements(w.evs) AS y(x) WHERE w.event_count > 1
    ), dups AS (
      -- LATERAL ... LIMIT 1: one unique-index probe per id, whatever the size of the table
      -- (a plain join was planned as a hash join over a scan of every event).
      SELECT DISTINCT ids.i FROM ids, LATERAL (SELECT 1 FROM ${s}.events e WHERE e.id = ids.id LIMIT 1) AS found
    ), judged AS (
      SELECT cur.*, CASE
        WHEN lname IS NOT NULL AND term IS DISTINCT FROM lterm THEN jsonb_build_object('error', 'lease', 'currentTerm', coalesce(term, 0))
        WHEN exp <> 'any' AND exp::integer <> v THEN jsonb_build_object('error', 'version', 'actual', v)
        WHEN cur.i IN (SELECT i FROM dups) THEN jsonb_build_object('error', 'duplicate')
      END AS err
      FROM cur
    ), single AS (
      -- A stored id (a retry, or another append of this group with the same id) inserts
      -- nothing; its append is answered 'duplicate' below.
      INSERT INTO ${s}.events (id, stream_id, version, name, data, schema_version, at, meta)
      SELECT e->>'id', j.sid, j.v + 1, e->>'name', e->>'data', (e->>'schemaVersion')::integer, (e->>'at')::bigint, e->>'meta'
      FROM judged j, LATERAL (SELECT j.evs->0 AS e) AS single_event
      WHERE j.err IS NULL AND j.event_count = 1
      ORDER BY j.i
      ON CONFLICT (id) DO NOTHING
      RETURNING position, stream_id, version
    ), several AS (
      -- Rows in append order, so within a stream positions follow versions.
      INSERT INTO ${s}.events (id, stream_id, version, name, data, schema_version, at, meta)
      SELECT e->>'id', j.sid, j.v + n::integer, e->>'name', e->>'data', (e->>'schemaVersion')::integer, (e->>'at')::bigint, e->>'meta'
      FROM judged j, jsonb_array_elements(j.evs) WITH ORDINALITY AS t(e, n)
      WHERE j.err IS NULL AND j.event_count > 1
      ORDER BY j.i, n
      RETURNING position, stream_id, version
    ), positions AS (
      SELECT stream_id, jsonb_agg(position ORDER BY version) AS p
      FROM (SELECT * FROM single UNION ALL SELECT * FROM several) AS inserted GROUP BY stream_id
    )
    SELECT jsonb_agg(CASE
      WHEN j.err IS NOT NULL THEN j.err
      WHEN positions.p IS NULL THEN jsonb_build_object('error', 'duplicate')
      ELSE jsonb_build_object('firstVersion', j.v + 1, 'positions', positions.p)
    END ORDER BY j.i)
    INTO results FROM judged j LEFT JOIN positions ON positions.stream_id = j.sid;
    PERFORM pg_notify(channel, '');
    RETURN results;
  END IF;
  -- A group of one, or a stream appended to twice in one group: one append after the other.
  FOR w IN SELECT value FROM jsonb_array_elements(works) LOOP
    IF w ? 'leaseName' THEN
      SELECT term INTO current_term FROM ${s}.leases WHERE name = w->>'leaseName';
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
    -- One unique-index lookup per id (a set-valued IN was planned as a scan of all events).
    duplicate := false;
    FOR event_id IN SELECT e->>'id' FROM jsonb_array_elements(w->'events') AS t(e) LOOP
      IF EXISTS (SELECT 1 FROM ${s}.events WHERE id = event_id) THEN
        duplicate := true;
        EXIT;
      END IF;
    END LOOP;
    IF duplicate THEN
      results := results || jsonb_build_array(jsonb_build_object('error', 'duplicate'));
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
  END LOOP;
  -- Delivered at commit: a wake-up for live subscriptions in every process.
  PERFORM pg_notify(channel, '');
  RETURN results;
END
$fn$;
`
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
    const all = migrations(schema)
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
