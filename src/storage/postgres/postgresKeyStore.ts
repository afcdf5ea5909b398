/**
 * The PostgreSQL key store (SPEC S18; PRIVACY.md, "Keys and backups"): the participants' sealing
 * keys in a database of their own, apart from the database of the sealed inputs — as SQLite keeps
 * them in a file of their own. `pg_dump`, base backups and WAL archives copy one database (or one
 * cluster's WAL); with the keys elsewhere, a backup of the main database holds ciphertext and no
 * key, and deleting a participant's key here erases their inputs in every such backup, taken
 * before or after. The two databases are backed up apart, with different retention.
 *
 *   attune serve --db postgres://H/attune  ──▶  keys: postgres://H/attune_keys  (default)
 *                                           or  --keys postgres://K/…       (anywhere else)
 *
 * Default: the database `<db>_keys` on the same server, with the same connection options (the
 * same `search_path` schema), created on first start when absent (the role needs CREATEDB, or
 * the operator creates it). A sibling database rather than a schema: PostgreSQL's backup tools
 * work per database (`pg_dump DB`) — a schema of the main database would be in its dumps. A
 * sibling on the same server still shares its physical backups (`pg_basebackup`, WAL archives
 * copy the whole server): an operator who backs up that way puts the key store on another
 * server with `--keys` (DEPLOY.md).
 *
 * No query joins the two databases: the adapter reads keys by participant id (`get`), caches
 * them, and writes them before the group that needs them commits in the main database (a new
 * participant's key commits before their row; erasure and retention delete keys before rows).
 *
 * Versioned like the main schema (postgresSchema.ts): `attune_keys_schema (version, store_id)`,
 * migrated in one transaction under an advisory lock; `store_id` is a random id made when the
 * store is created, which the main database records (`key_store`), so a node or a restored
 * database pointed at another key store is refused instead of sealing under keys nobody keeps.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Advisory lock key serialising the key store's migrations ('atky'). */
const MIGRATE_LOCK = 0x6174_6b79;

/** Version 1: the keys, one per participant (S16). */
const V1 = `
CREATE TABLE participant_keys (
  participant_id TEXT PRIMARY KEY,
  key BYTEA NOT NULL
);
`;

/** The key store's schema steps; append only. */
export const KEY_MIGRATIONS: readonly string[] = [V1];

/** The key store schema version this code writes. */
export const KEY_SCHEMA_VERSION = KEY_MIGRATIONS.length;

/** Where a key store is: a connection string and libpq-style options. */
export interface PostgresKeyStoreOptions {
  /** `postgres://user@host:port/db` of the key store's database. */
  readonly connectionString: string;
  /** Extra `options` for its connections (e.g. `-c search_path=NAME`). */
  readonly options?: string;
  /** `application_name` (default `attune-keys`). */
  readonly applicationName?: string;
  /**
   * The main database, to create the key store's database from when it does not exist (CREATE
   * DATABASE needs a connection to some database of the server). Null: never create it.
   */
  readonly createFrom?: { readonly connectionString: string; readonly options?: string } | null;
}

/** The database named by a PostgreSQL URL (libpq's default: the user's name). */
function databaseOf(url: URL): string {
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return path || decodeURIComponent(url.username) || 'postgres';
}

/**
 * The default key store of a main database (S18): the database `<db>_keys` on the same server,
 * same user and query (so the same `options`, the same schema).
 */
export function defaultKeyStoreUrl(mainUrl: string): string {
  const u = new URL(mainUrl);
  u.pathname = `/${encodeURIComponent(`${databaseOf(u)}_keys`)}`;
  return u.toString();
}

/** The database name of a key store URL (for messages and CREATE DATABASE). */
export function keyStoreDatabase(url: string): string {
  return databaseOf(new URL(url));
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The participants' sealing keys in their own database. Create with {@link PostgresKeyStore.open}. */
export class PostgresKeyStore {
  readonly #pool: pg.Pool;
  /** The random id this key store was created with (recorded by the main database). */
  readonly storeId: string;
  /** Whether this open created the key store's schema (a new, empty key store). */
  readonly created: boolean;
  /** The key store's database name, for messages. */
  readonly database: string;

  private constructor(pool: pg.Pool, storeId: string, created: boolean, database: string) {
    this.#pool = pool;
    this.storeId = storeId;
    this.created = created;
    this.database = database;
  }

  /**
   * Connects to the key store, creating its database (from `createFrom`) when it does not
   * exist, and its schema of the search path when that does not exist, then migrates it.
   */
  static async open(o: PostgresKeyStoreOptions): Promise<PostgresKeyStore> {
    const database = keyStoreDatabase(o.connectionString);
    const pool = new pg.Pool({ connectionString: o.connectionString, ...(o.options ? { options: o.options } : {}), max: 2, application_name: o.applicationName ?? 'attune-keys' });
    pool.on('error', () => {});
    try {
      const client = await PostgresKeyStore.#connect(pool, o, database);
      try {
        const { storeId, created } = await PostgresKeyStore.#migrate(client);
        return new PostgresKeyStore(pool, storeId, created, database);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
  }

  static async #connect(pool: pg.Pool, o: PostgresKeyStoreOptions, database: string): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (e) {
      if ((e as { code?: string }).code !== '3D000' || !o.createFrom) throw e;
    }
    // 3D000: the database does not exist. Create it from the main database's connection.
    const admin = new pg.Client({ connectionString: o.createFrom.connectionString, ...(o.createFrom.options ? { options: o.createFrom.options } : {}), application_name: 'attune-keys-create' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    } catch (e) {
      // Another node created it at the same moment (42P04, or 23505 on pg_database's index).
      const code = (e as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw new Error(`could not create the key store database ${database} (create it, or give the role CREATEDB, or name another with --keys): ${(e as Error).message}`, { cause: e });
    } finally {
      await admin.end().catch(() => {});
    }
    return pool.connect();
  }

  /** Brings the key store to KEY_SCHEMA_VERSION in one transaction; refuses a newer one. */
  static async #migrate(client: pg.PoolClient): Promise<{ storeId: string; created: boolean }> {
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      // A search_path naming a schema this database lacks (the main database's schema, mirrored): create it.
      const cur = (await client.query<{ s: string | null; p: string }>("SELECT current_schema() AS s, current_setting('search_path') AS p")).rows[0];
      if (cur && cur.s === null) {
        const first = cur.p
          .split(',')
          .map((x) => x.trim())
          .find((x) => x !== '' && x !== '"$user"');
        if (!first) throw new Error('the key store connection has no schema on its search_path');
        const name = first.startsWith('"') ? first.slice(1, -1).replace(/""/g, '"') : first;
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(name)}`);
      }
      await client.query('CREATE TABLE IF NOT EXISTS attune_keys_schema (version INTEGER NOT NULL, store_id TEXT NOT NULL)');
      const r = await client.query<{ version: number; store_id: string }>('SELECT version, store_id FROM attune_keys_schema');
      const row = r.rows[0];
      const found = row?.version ?? 0;
      if (found > KEY_SCHEMA_VERSION) throw new Error(`key store schema version ${found} is newer than this attune's (${KEY_SCHEMA_VERSION}); upgrade attune`);
      for (let v = found; v < KEY_SCHEMA_VERSION; v++) await client.query(KEY_MIGRATIONS[v] as string);
      const storeId = row?.store_id ?? randomBytes(16).toString('hex');
      if (!row) await client.query('INSERT INTO attune_keys_schema (version, store_id) VALUES ($1, $2)', [KEY_SCHEMA_VERSION, storeId]);
      else if (found !== KEY_SCHEMA_VERSION) await client.query('UPDATE attune_keys_schema SET version = $1', [KEY_SCHEMA_VERSION]);
      await client.query('COMMIT');
      return { storeId, created: !row };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** The stored keys of `ids` (absent: none stored — erased, or never made). */
  async get(ids: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    if (ids.length === 0) return out;
    const r = await this.#pool.query<{ participant_id: string; key: Buffer }>('SELECT participant_id, key FROM participant_keys WHERE participant_id = ANY($1::text[])', [ids]);
    for (const row of r.rows) out.set(row.participant_id, new Uint8Array(row.key));
    return out;
  }

  /**
   * Stores keys (durable when it resolves: its own commit). A participant who already has a key
   * keeps it. Resolves the ids whose key went in.
   */
  async put(rows: readonly { readonly id: string; readonly key: Uint8Array }[]): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const r = await this.#pool.query<{ participant_id: string }>(
      `INSERT INTO participant_keys (participant_id, key)
SELECT DISTINCT ON (x.id) x.id, x.key FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS x(id, key, ord) ORDER BY x.id, x.ord
ON CONFLICT DO NOTHING RETURNING participant_id`,
      [rows.map((x) => x.id), rows.map((x) => Buffer.from(x.key))],
    );
    return new Set(r.rows.map((x) => x.participant_id));
  }

  /** Deletes the keys of `ids` (crypto-shredding: their sealed rows open for nobody from now on). */
  async delete(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.#pool.query('DELETE FROM participant_keys WHERE participant_id = ANY($1::text[])', [ids])).rowCount ?? 0;
  }

  /** Deletes a key only if it is still the one given (a key put for a participant whose creation then failed). */
  async deleteExact(rows: readonly { readonly id: string; readonly key: Uint8Array }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query('DELETE FROM participant_keys k USING unnest($1::text[], $2::bytea[]) AS x(id, key) WHERE k.participant_id = x.id AND k.key = x.key', [rows.map((x) => x.id), rows.map((x) => Buffer.from(x.key))]);
  }

  /** Whether the key store answers. */
  async healthy(): Promise<boolean> {
    try {
      await this.#pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Closes its connections. */
  close(): Promise<void> {
    return this.#pool.end();
  }
}
