/**
 * The PostgreSQL schema of the Storage adapter (SPEC S11), versioned: `MIGRATIONS[v]` takes a
 * schema from version v to v + 1. Opening applies the missing steps in ONE transaction that
 * first takes a transaction-scoped advisory lock, so several attune processes starting at once
 * on one database (a cluster) migrate it exactly once; a schema from a newer attune is refused
 * unchanged. The version lives in `attune_schema (version)`; every table sits in the
 * connection's schema (`search_path`), beside the transparency log's `log_*` tables.
 *
 * Types: epoch milliseconds, seqs and event numbers are BIGINT (they are JavaScript safe
 * integers; pg returns them as strings, the adapter turns them back into numbers); affect values
 * are DOUBLE PRECISION, which round-trips a JavaScript number exactly.
 *
 * The two PL/pgSQL functions (replaced on every open, see FUNCTIONS) apply a whole run of
 * `appendInputs` (or `appendEvents`) rows in one set-based statement, in call order, and raise on
 * what the port calls a bug (an unknown participant, an event number already taken) — so the
 * writer can merge consecutive calls into one statement and fall back to one savepoint per call
 * only when a statement raised.
 */
import type { Pool, PoolClient } from 'pg';

/** Advisory lock key serialising migrations (any constant unique to attune's tables). */
const MIGRATE_LOCK = 0x6174_6d67; // 'atmg'

/** Version 1: the tables of everything the SQLite schema holds at its version 4 (S7–S10). */
const V1 = `
CREATE TABLE spaces (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open','closed')),
  capacity INTEGER NOT NULL,
  ttl_ms BIGINT NOT NULL,
  steward_token_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  closed_at BIGINT,
  groups TEXT
);
CREATE TABLE participants (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  token_hash TEXT NOT NULL UNIQUE,
  joined_at BIGINT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  v DOUBLE PRECISION, a DOUBLE PRECISION, c DOUBLE PRECISION, src TEXT, at BIGINT,
  grp TEXT
);
CREATE INDEX participants_space_at ON participants(space_id, at);
CREATE TABLE inputs (
  -- Append order, for listInputs' tie-break (SQLite's rowid).
  id BIGINT GENERATED ALWAYS AS IDENTITY,
  space_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  v DOUBLE PRECISION NOT NULL, a DOUBLE PRECISION NOT NULL, c DOUBLE PRECISION NOT NULL, src TEXT NOT NULL, at BIGINT NOT NULL,
  exposed BOOLEAN NOT NULL,
  shown_v DOUBLE PRECISION, shown_a DOUBLE PRECISION,
  n BIGINT,
  heart_bpm DOUBLE PRECISION,
  PRIMARY KEY (participant_id, seq)
);
CREATE INDEX inputs_space_at ON inputs(space_id, at, id);
CREATE UNIQUE INDEX inputs_space_n ON inputs(space_id, n) WHERE n IS NOT NULL;
CREATE TABLE events (
  space_id TEXT NOT NULL,
  n BIGINT NOT NULL,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  participant_id TEXT,
  body TEXT,
  PRIMARY KEY (space_id, n)
);
CREATE TABLE pulse_points (
  id BIGINT GENERATED ALWAYS AS IDENTITY,
  space_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  count INTEGER NOT NULL,
  v DOUBLE PRECISION NOT NULL, a DOUBLE PRECISION NOT NULL, sv DOUBLE PRECISION NOT NULL, sa DOUBLE PRECISION NOT NULL,
  q0 DOUBLE PRECISION NOT NULL, q1 DOUBLE PRECISION NOT NULL, q2 DOUBLE PRECISION NOT NULL, q3 DOUBLE PRECISION NOT NULL
);
CREATE INDEX pulse_points_space_at ON pulse_points(space_id, at, id);
CREATE TABLE space_links (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  other_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (space_id, other_id)
);
`;

/**
 * The writer's functions: code, not data, so they are replaced on every open (in the migration
 * transaction, after the steps) instead of being versioned — a fix reaches every schema, and a
 * step never has to repeat a function's text.
 */
const FUNCTIONS = `

-- A run of inputs (S3, S8), in call order (the arrays' order). An input whose seq is not above
-- both the stored lastSeq and every earlier seq of the run for its participant is ignored (an
-- idempotent retry); the others are inserted and the participant's latest point and lastSeq
-- become its last accepted input. Raises, storing nothing, for an unknown participant (or one
-- of another space) or an accepted input whose n an event holds; a duplicate n among inputs
-- violates inputs_space_n.
CREATE OR REPLACE FUNCTION attune_append_inputs(
  p_space TEXT[], p_participant TEXT[], p_seq BIGINT[], p_v DOUBLE PRECISION[], p_a DOUBLE PRECISION[], p_c DOUBLE PRECISION[],
  p_src TEXT[], p_at BIGINT[], p_exposed BOOLEAN[], p_shown_v DOUBLE PRECISION[], p_shown_a DOUBLE PRECISION[], p_n BIGINT[], p_heart DOUBLE PRECISION[],
  p_sealed TEXT[]
) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  unknown BIGINT;
  clash BIGINT;
BEGIN
  WITH r AS (
    SELECT * FROM unnest(p_space, p_participant, p_seq, p_v, p_a, p_c, p_src, p_at, p_exposed, p_shown_v, p_shown_a, p_n, p_heart, p_sealed)
      WITH ORDINALITY AS r(space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n, heart_bpm, sealed, ord)
  ), j AS (
    SELECT r.*, p.last_seq AS stored,
      max(r.seq) OVER (PARTITION BY r.participant_id COLLATE "C" ORDER BY r.ord ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
    FROM r JOIN participants p ON p.id = r.participant_id AND p.space_id = r.space_id
  ), acc AS (
    SELECT * FROM j WHERE seq > greatest(stored, coalesce(earlier, 0))
  ), ins AS (
    INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n, heart_bpm, sealed)
      SELECT space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n, heart_bpm, sealed FROM acc ORDER BY ord
      ON CONFLICT (participant_id, seq) DO NOTHING
  ), upd AS (
    UPDATE participants p SET last_seq = l.seq, v = l.v, a = l.a, c = l.c, src = l.src, at = l.at, sealed = l.sealed
      FROM (SELECT DISTINCT ON (participant_id COLLATE "C") * FROM acc ORDER BY participant_id COLLATE "C", ord DESC) l
      WHERE p.id = l.participant_id
  )
  SELECT (SELECT count(*) FROM r) - (SELECT count(*) FROM j),
         (SELECT count(*) FROM acc JOIN events e ON e.space_id = acc.space_id AND e.n = acc.n)
    INTO unknown, clash;
  IF unknown > 0 THEN
    RAISE EXCEPTION 'unknown participant in appendInputs' USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF clash > 0 THEN
    RAISE EXCEPTION 'duplicate event number: an event holds an input''s n' USING ERRCODE = 'unique_violation';
  END IF;
END
$fn$;

-- A run of events (S7, S8), in call order. Raises, storing nothing, for an n an input holds;
-- a duplicate n among events violates the primary key.
CREATE OR REPLACE FUNCTION attune_append_events(p_space TEXT[], p_n BIGINT[], p_at BIGINT[], p_kind TEXT[], p_participant TEXT[], p_body TEXT[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  clash BIGINT;
BEGIN
  WITH r AS (
    SELECT * FROM unnest(p_space, p_n, p_at, p_kind, p_participant, p_body) WITH ORDINALITY AS r(space_id, n, at, kind, participant_id, body, ord)
  ), ins AS (
    INSERT INTO events (space_id, n, at, kind, participant_id, body) SELECT space_id, n, at, kind, participant_id, body FROM r ORDER BY ord
  )
  SELECT count(*) FROM r JOIN inputs i ON i.space_id = r.space_id AND i.n = r.n INTO clash;
  IF clash > 0 THEN
    RAISE EXCEPTION 'duplicate event number: an input holds an event''s n' USING ERRCODE = 'unique_violation';
  END IF;
END
$fn$;
`;

/**
 * Version 2: stories (SPEC ST13), as SQLite's schema 5. A withdrawn story's row is deleted; its
 * dead tuple is gone from the table's visible data at once and reclaimed by (auto)vacuum.
 */
const V2 = `
CREATE TABLE stories (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  participant_id TEXT NOT NULL REFERENCES participants(id),
  text TEXT NOT NULL,
  name TEXT,
  v DOUBLE PRECISION NOT NULL, a DOUBLE PRECISION NOT NULL, c DOUBLE PRECISION NOT NULL,
  flags TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting','shown','declined','hidden')),
  reason TEXT,
  created_at BIGINT NOT NULL,
  decided_at BIGINT
);
CREATE INDEX stories_space ON stories(space_id, created_at);
CREATE TABLE story_settings (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  enabled BOOLEAN NOT NULL,
  moderation TEXT NOT NULL CHECK (moderation IN ('pre','post')),
  at BIGINT NOT NULL
);
`;

/** Version 3: governance (S12): a space's council, policies and feedback in force, as one JSON text. */
const V3 = `
CREATE TABLE governance (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  snapshot TEXT NOT NULL
);
`;

/**
 * Version 4: the feed settings (S13) — a space's OSC targets and frame-ancestors allow-list (a
 * JSON array per kind), its webhook subscriptions (no secrets: the server derives them) and
 * their delivery log (`id` is append order; trimmed per space on append).
 */
const V4 = `
CREATE TABLE feed_settings (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  kind TEXT NOT NULL,
  vals TEXT NOT NULL,
  at BIGINT NOT NULL,
  PRIMARY KEY (space_id, kind)
);
CREATE TABLE webhooks (
  ord BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
  id BIGINT GENERATED ALWAYS AS IDENTITY,
  space_id TEXT NOT NULL,
  delivery TEXT NOT NULL,
  webhook TEXT NOT NULL,
  event TEXT NOT NULL,
  type TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at BIGINT NOT NULL,
  status INTEGER,
  outcome TEXT NOT NULL,
  error TEXT,
  next_attempt_at BIGINT
);
CREATE INDEX webhook_deliveries_space ON webhook_deliveries(space_id, id);
`;

/** Schema steps; append only (a released step never changes: existing databases ran it). */
/** Version 5: privacy (S15) — each space's secret noise seed and its DP releases (the budget's ledger). */
const V5 = `
CREATE TABLE space_secrets (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  noise_seed TEXT NOT NULL
);
CREATE TABLE privacy_releases (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  n BIGINT NOT NULL,
  at BIGINT NOT NULL,
  what TEXT NOT NULL,
  params TEXT NOT NULL,
  rho_micro BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (space_id, n)
);
`;

/** Schema steps; append only (a released step never changes: existing databases ran it). */
/** Version 6: consent records (S16). Erasure deletes rows. */
const V6 = `
CREATE TABLE consents (
  participant_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  hash TEXT NOT NULL,
  purposes TEXT NOT NULL
);
CREATE INDEX consents_participant ON consents (participant_id, at);
`;

/** Version 7: retention (S17, V3) — how long a space's raw data is kept after it closes (NULL: the server's setting), and when retention deleted it. */
const V7 = `
ALTER TABLE spaces ADD COLUMN retention_ms BIGINT;
ALTER TABLE spaces ADD COLUMN purged_at BIGINT;
`;

/**
 * Version 8: sealing (S16, S18) as in SQLite — each participant's sealing key, and the sealed
 * input and latest point (the plain columns then hold placeholders). The keys were in this
 * database until version 9 moved them to the key store. attune_append_inputs gains the
 * sealed column (the older signature is dropped; FUNCTIONS recreates it).
 */
const V8 = `
CREATE TABLE participant_keys (
  participant_id TEXT PRIMARY KEY,
  key BYTEA NOT NULL
);
ALTER TABLE inputs ADD COLUMN sealed TEXT;
ALTER TABLE participants ADD COLUMN sealed TEXT;
DROP FUNCTION IF EXISTS attune_append_inputs(TEXT[], TEXT[], BIGINT[], DOUBLE PRECISION[], DOUBLE PRECISION[], DOUBLE PRECISION[], TEXT[], BIGINT[], BOOLEAN[], DOUBLE PRECISION[], DOUBLE PRECISION[], BIGINT[], DOUBLE PRECISION[]);
`;

/**
 * Version 9: the keys leave this database for the key store (S18, postgresKeyStore.ts) — a
 * database of their own, so a backup of this one holds no key. {@link migratePostgres} has copied
 * them there (committed) before this step drops the table. `key_store` records which key store
 * holds this database's keys (its `store_id`), so a node or a restored copy pointed at another
 * is refused.
 */
const V9 = `
DROP TABLE IF EXISTS participant_keys;
CREATE TABLE key_store (store_id TEXT NOT NULL, at BIGINT NOT NULL);
`;

/**
 * Version 10: participants indexed by space, not (space, latest time), and pages left 30 % free:
 * every durable input updates its participant's latest point, and with `at` indexed no such
 * update could be HOT (PostgreSQL's heap-only tuple update: no index touched) — each one wrote
 * three index entries as well. With no updated column indexed and room on the page, they are
 * HOT; attune_append_inputs took ≈ 35–40 % less time per input (measured on 5,000 participants,
 * 200 inputs a call). Only a host's start lists a space's active participants, which now reads
 * the space's participants and keeps the recent ones.
 */
const V10 = `
DROP INDEX IF EXISTS participants_space_at;
CREATE INDEX IF NOT EXISTS participants_space ON participants(space_id);
ALTER TABLE participants SET (fillfactor = 70);
`;

export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6, V7, V8, V9, V10];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Where the keys go (S18): the key store this database's keys live in. */
export interface KeyStoreBinding {
  /** The key store's id (PostgresKeyStore.storeId). */
  readonly storeId: string;
  /** The key store, for messages (a database name; never a password). */
  readonly shown: string;
  /** Stores keys moved out of this database (committed when it resolves). */
  put(rows: readonly { readonly id: string; readonly key: Uint8Array }[]): Promise<unknown>;
}

/** Keys copied per statement when version 9 moves them to the key store. */
const MOVE_CHUNK = 5_000;

/**
 * Before version 9 drops `participant_keys`: every key in it is copied to the key store, each
 * chunk committed there, inside this migration's transaction and lock — so a crash before the
 * drop commits leaves the keys in both places, and the next start copies them again (a key the
 * store already holds stays as it is).
 */
async function moveKeys(client: PoolClient, keys: KeyStoreBinding | undefined): Promise<number> {
  const has = (await client.query<{ t: string | null }>("SELECT to_regclass('participant_keys')::text AS t")).rows[0]?.t;
  if (!has) return 0;
  let moved = 0;
  let after = '';
  for (;;) {
    const r = await client.query<{ participant_id: string; key: Buffer }>('SELECT participant_id, key FROM participant_keys WHERE participant_id COLLATE "C" > $1 ORDER BY participant_id COLLATE "C" LIMIT $2', [after, MOVE_CHUNK]);
    if (r.rows.length === 0) return moved;
    if (!keys) throw new Error('moving the sealing keys out of the database (schema 9) needs the key store');
    await keys.put(r.rows.map((x) => ({ id: x.participant_id, key: new Uint8Array(x.key) })));
    moved += r.rows.length;
    after = (r.rows.at(-1) as { participant_id: string }).participant_id;
  }
}

/**
 * Checks (and on first use records) which key store holds this database's keys (S18): a database
 * bound to another key store is refused — a cluster node given another `--keys`, or a restored
 * database beside a new, empty key store, would seal under keys nobody else holds and open none
 * of the stored inputs. A database with no participant yet is simply bound to the new one.
 */
async function bindKeyStore(client: PoolClient, keys: KeyStoreBinding, at: number): Promise<void> {
  const bound = (await client.query<{ store_id: string }>('SELECT store_id FROM key_store')).rows[0]?.store_id;
  if (bound === keys.storeId) return;
  if (bound !== undefined) {
    const people = (await client.query('SELECT 1 FROM participants LIMIT 1')).rows.length;
    if (people > 0) throw new Error(`the key store ${keys.shown} is not the one this database's keys are in (it was created apart from them, or is another store): start with --keys URL of the key store that belongs to this database — every node of a cluster uses the same one (PRIVACY.md, "Keys and backups")`);
    await client.query('DELETE FROM key_store');
  }
  await client.query('INSERT INTO key_store (store_id, at) VALUES ($1, $2)', [keys.storeId, at]);
}

/**
 * Brings the connection's schema to PG_SCHEMA_VERSION: all missing steps in one transaction or
 * none. Rejects, changing nothing, when the schema is newer than this code. With `keys`, keys
 * still in this database move to that key store first (version 9) and the database is bound to
 * it (see {@link bindKeyStore}).
 * @returns the version found before migrating (0: a fresh schema).
 */
export async function migratePostgres(pool: Pool, keys?: KeyStoreBinding): Promise<number> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS attune_schema (version INTEGER NOT NULL)');
    const r = await client.query<{ version: number }>('SELECT version FROM attune_schema');
    const found = r.rows[0]?.version ?? 0;
    if (found > PG_SCHEMA_VERSION) throw new Error(`database schema version ${found} is newer than this attune's (${PG_SCHEMA_VERSION}); upgrade attune`);
    for (let v = found; v < PG_SCHEMA_VERSION; v++) {
      if (v === 8) await moveKeys(client, keys);
      await client.query(MIGRATIONS[v] as string);
    }
    if (keys) await bindKeyStore(client, keys, Date.now());
    await client.query(FUNCTIONS);
    if (r.rows.length === 0) await client.query('INSERT INTO attune_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    else if (found !== PG_SCHEMA_VERSION) await client.query('UPDATE attune_schema SET version = $1', [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
    return found;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
