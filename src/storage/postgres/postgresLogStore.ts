/**
 * PostgreSQL LogStore, for deployments that keep their state in Postgres. Same contract as the
 * SQLite store (test/contracts/logStore.contract.ts). Each batch is one transaction that takes a
 * transaction-scoped advisory lock, re-reads the size and inserts entries and tiles, so two
 * writers can never interleave or leave a gap; COMMIT makes it durable (with the server's
 * default `synchronous_commit = on`). Tables are prefixed `log_` in the connection's schema.
 */
import type { Pool, PoolClient } from 'pg';
import { type LogAppendBatch, LogSizeConflict, type LogStore } from '../port.ts';

const TILE_BYTES = 8192;
/** Advisory lock key serialising appends (any constant unique to this table set). */
const APPEND_LOCK = 0x6174_6c67; // 'atlg'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS log_tiles (level INTEGER NOT NULL, idx BIGINT NOT NULL, hashes BYTEA NOT NULL, PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
`;

/**
 * Runs `f` in one transaction holding the log's append lock (every node's appends and the
 * schema's creation queue on it, K9): committed when `f` resolves, rolled back when it throws.
 */
async function underAppendLock(pool: Pool, f: (client: PoolClient) => Promise<unknown>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    await f(client);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** The PostgreSQL transparency-log store. Create with `PostgresLogStore.open(pool)`. */
export class PostgresLogStore implements LogStore {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  #closed = false;

  private constructor(pool: Pool, ownsPool: boolean) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
  }

  /**
   * Creates the tables if needed — under the append lock, since `CREATE TABLE IF NOT EXISTS` run
   * at once by nodes starting together can fail on PostgreSQL's catalogue (K9). `ownsPool`: end
   * the pool in `close()` (default false).
   */
  static async open(pool: Pool, options: { readonly ownsPool?: boolean } = {}): Promise<PostgresLogStore> {
    await underAppendLock(pool, (client) => client.query(SCHEMA));
    return new PostgresLogStore(pool, options.ownsPool ?? false);
  }

  async #count(client: Pool | PoolClient): Promise<number> {
    const r = await client.query<{ n: string }>('SELECT coalesce(max(idx) + 1, 0) AS n FROM log_entries');
    return Number(r.rows[0]?.n ?? 0);
  }

  async append(batch: LogAppendBatch): Promise<void> {
    for (const t of batch.tiles) {
      if (t.hashes.length !== TILE_BYTES) throw new RangeError(`tile ${t.level}/${t.index} is ${t.hashes.length} bytes, not ${TILE_BYTES}`);
    }
    await underAppendLock(this.#pool, async (client) => {
      const size = await this.#count(client);
      if (batch.start !== size) throw new LogSizeConflict(batch.start, size);
      if (batch.entries.length > 0) {
        await client.query('INSERT INTO log_entries (idx, data) SELECT * FROM unnest($1::bigint[], $2::bytea[])', [
          batch.entries.map((_, i) => String(batch.start + i)),
          batch.entries.map((e) => Buffer.from(e)),
        ]);
      }
      for (const t of batch.tiles) {
        await client.query('INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes', [
          t.level,
          String(t.index),
          Buffer.from(t.hashes),
        ]);
      }
    });
  }

  async size(): Promise<number> {
    return this.#count(this.#pool);
  }

  async readEntries(from: number, to: number): Promise<Uint8Array[]> {
    const size = await this.#count(this.#pool);
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to && to <= size)) {
      throw new RangeError(`entries [${from}, ${to}) are outside the log of ${size}`);
    }
    if (from === to) return [];
    const r = await this.#pool.query<{ data: Buffer }>('SELECT data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx', [String(from), String(to)]);
    return r.rows.map((row) => new Uint8Array(row.data));
  }

  async readTile(level: number, index: number): Promise<Uint8Array | null> {
    const r = await this.#pool.query<{ hashes: Buffer }>('SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2', [level, String(index)]);
    const row = r.rows[0];
    return row === undefined ? null : new Uint8Array(row.hashes);
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    await this.#pool.query('INSERT INTO log_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, Buffer.from(value)]);
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    const r = await this.#pool.query<{ value: Buffer }>('SELECT value FROM log_meta WHERE key = $1', [key]);
    const row = r.rows[0];
    return row === undefined ? null : new Uint8Array(row.value);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }
}
