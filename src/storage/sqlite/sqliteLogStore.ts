/**
 * SQLite LogStore on a `DatabaseSync` shared with the rest of the server (see openDatabase.ts:
 * WAL, `synchronous = FULL`, so a committed append survives a power loss). Its tables are
 * prefixed `log_`. Each batch is atomic and, when no outer transaction is open, durable once
 * `append` resolves.
 *
 * The same file has a second writer: SqliteStorage's writer thread, on its own connection. So a
 * batch opened here takes the write lock up front (`BEGIN IMMEDIATE`, waiting up to the
 * connection's `busy_timeout` while a group commits). A deferred transaction would read the log
 * size under a snapshot and then try to upgrade to a writer; had a group committed in between,
 * SQLite refuses that upgrade at once (SQLITE_BUSY_SNAPSHOT, no retry). Inside a caller's
 * transaction a batch is a SAVEPOINT, as before. Single-statement writes (`putMeta`) take the
 * lock with the busy handler by themselves.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type LogAppendBatch, LogSizeConflict, type LogStore } from '../port.ts';

const TILE_BYTES = 8192;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log_entries (
  idx INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS log_tiles (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
`;

/** The SQLite transparency-log store. */
export class SqliteLogStore implements LogStore {
  readonly #db: DatabaseSync;
  readonly #ownsDb: boolean;
  readonly #size: StatementSync;
  readonly #insertEntry: StatementSync;
  readonly #insertTile: StatementSync;
  readonly #readEntries: StatementSync;
  readonly #readTile: StatementSync;
  readonly #putMeta: StatementSync;
  readonly #getMeta: StatementSync;
  #closed = false;

  /**
   * @param db a database from `openDatabase`, usually the server's own.
   * @param options.ownsDatabase close `db` in `close()` (default false: the server owns it).
   */
  constructor(db: DatabaseSync, options: { readonly ownsDatabase?: boolean } = {}) {
    this.#db = db;
    this.#ownsDb = options.ownsDatabase ?? false;
    db.exec(SCHEMA);
    this.#size = db.prepare('SELECT coalesce(max(idx) + 1, 0) AS n FROM log_entries');
    this.#insertEntry = db.prepare('INSERT INTO log_entries (idx, data) VALUES (?, ?)');
    this.#insertTile = db.prepare('INSERT OR REPLACE INTO log_tiles (level, idx, hashes) VALUES (?, ?, ?)');
    this.#readEntries = db.prepare('SELECT data FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx');
    this.#readTile = db.prepare('SELECT hashes FROM log_tiles WHERE level = ? AND idx = ?');
    this.#putMeta = db.prepare('INSERT INTO log_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#getMeta = db.prepare('SELECT value FROM log_meta WHERE key = ?');
  }

  #count(): number {
    return Number((this.#size.get() as { n: number | bigint }).n);
  }

  async append(batch: LogAppendBatch): Promise<void> {
    for (const t of batch.tiles) {
      if (t.hashes.length !== TILE_BYTES) throw new RangeError(`tile ${t.level}/${t.index} is ${t.hashes.length} bytes, not ${TILE_BYTES}`);
    }
    const outer = this.#db.isTransaction;
    this.#db.exec(outer ? 'SAVEPOINT log_append' : 'BEGIN IMMEDIATE');
    try {
      const size = this.#count();
      if (batch.start !== size) throw new LogSizeConflict(batch.start, size);
      let idx = batch.start;
      for (const e of batch.entries) this.#insertEntry.run(idx++, e);
      for (const t of batch.tiles) this.#insertTile.run(t.level, t.index, t.hashes);
      this.#db.exec(outer ? 'RELEASE log_append' : 'COMMIT');
    } catch (e) {
      if (outer) {
        this.#db.exec('ROLLBACK TO log_append');
        this.#db.exec('RELEASE log_append');
      } else if (this.#db.isTransaction) {
        this.#db.exec('ROLLBACK');
      }
      throw e;
    }
  }

  async size(): Promise<number> {
    return this.#count();
  }

  async readEntries(from: number, to: number): Promise<Uint8Array[]> {
    const size = this.#count();
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to && to <= size)) {
      throw new RangeError(`entries [${from}, ${to}) are outside the log of ${size}`);
    }
    if (from === to) return [];
    return (this.#readEntries.all(from, to) as { data: Uint8Array }[]).map((r) => new Uint8Array(r.data));
  }

  async readTile(level: number, index: number): Promise<Uint8Array | null> {
    const row = this.#readTile.get(level, index) as { hashes: Uint8Array } | undefined;
    return row === undefined ? null : new Uint8Array(row.hashes);
  }

  async putMeta(key: string, value: Uint8Array): Promise<void> {
    this.#putMeta.run(key, value);
  }

  async getMeta(key: string): Promise<Uint8Array | null> {
    const row = this.#getMeta.get(key) as { value: Uint8Array } | undefined;
    return row === undefined ? null : new Uint8Array(row.value);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) this.#db.close();
  }
}
