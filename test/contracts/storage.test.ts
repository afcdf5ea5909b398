import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/storage/memory/memoryStorage.ts';
import { DEFAULT_MIN_COMMIT_INTERVAL_MS as DEFAULT_PG_MIN_COMMIT_INTERVAL_MS, defaultKeyStoreUrl, PostgresStorage } from '../../src/storage/postgres/postgresStorage.ts';
import { openDatabase } from '../../src/storage/sqlite/openDatabase.ts';
import { SqliteLogStore } from '../../src/storage/sqlite/sqliteLogStore.ts';
import { PG_SCHEMA_VERSION } from '../../src/storage/postgres/postgresSchema.ts';
import { DEFAULT_MIN_COMMIT_INTERVAL_MS, SCHEMA_VERSION, SqliteStorage } from '../../src/storage/sqlite/sqliteStorage.ts';
import { ManualScheduler } from '../../src/space/scheduler.ts';
import { storageContract } from './storage.contract.ts';

storageContract({ name: 'memory', create: async () => new MemoryStorage(), reopen: null, commitsOf: (s) => (s as MemoryStorage).commits });

let path = '';
let db: DatabaseSync | null = null;
const open = async () => {
  db?.close();
  db = openDatabase(path);
  return new SqliteStorage(db);
};
/** The raw rows of the file at `file` and its key store (read on a connection of their own). */
const sqliteRaw = (file: () => string) => ({
  async inputs(participantId: string) {
    const d = new DatabaseSync(file(), { readOnly: true });
    try {
      return d.prepare('SELECT v, sealed FROM inputs WHERE participant_id = ? ORDER BY seq').all(participantId) as { v: number; sealed: string | null }[];
    } finally {
      d.close();
    }
  },
  async keys(participantId: string) {
    const d = new DatabaseSync(file().replace(/\.db$/, '.keys.db'), { readOnly: true });
    try {
      return Number((d.prepare('SELECT count(*) AS n FROM participant_keys WHERE participant_id = ?').get(participantId) as { n: number }).n);
    } finally {
      d.close();
    }
  },
});
storageContract({
  name: 'sqlite',
  create: async () => {
    path = join(mkdtempSync(join(tmpdir(), 'attune-storage-')), 'test.db');
    return open();
  },
  reopen: open,
  commitsOf: (s) => (s as SqliteStorage).commits,
  raw: sqliteRaw(() => path),
});

// Up to three groups committing at once on the writer thread: the same rules hold.
let pathB = '';
let dbB: DatabaseSync | null = null;
const openB = async () => {
  dbB?.close();
  dbB = openDatabase(pathB);
  return new SqliteStorage(dbB, { maxGroupsInFlight: 3 });
};
storageContract({
  name: 'sqlite, 3 groups in flight',
  create: async () => {
    pathB = join(mkdtempSync(join(tmpdir(), 'attune-storage-')), 'test.db');
    return openB();
  },
  reopen: openB,
  commitsOf: (s) => (s as SqliteStorage).commits,
});

// A database with no file (':memory:') commits on the calling thread, with the same writer code.
storageContract({
  name: 'sqlite :memory: (commits on the main thread)',
  create: async () => new SqliteStorage(openDatabase(':memory:')),
  reopen: null,
  commitsOf: (s) => (s as SqliteStorage).commits,
});

// PostgreSQL (the machine's service at 127.0.0.1:5432, as in CI; env ATTUNE_TEST_PG overrides):
// every store gets a fresh schema of its own (dropped afterwards), so runs never see each other.
const PG = process.env.ATTUNE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The default key store of PG (S18): its sibling database, the same schema. */
const PG_KEYS = defaultKeyStoreUrl(PG);
const pgSchemas: string[] = [];
/** Runs one statement on a connection of its own (on the key store's database with `at`). */
async function pgAdmin(sql: string, at = PG): Promise<void> {
  const admin = new pg.Client({ connectionString: at });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
/** A fresh schema, dropped after the file's tests. */
async function pgSchema(tag: string): Promise<string> {
  const name = `attune_storage_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await pgAdmin(`CREATE SCHEMA ${name}`);
  pgSchemas.push(name);
  return name;
}
afterAll(async () => {
  for (const name of pgSchemas.splice(0)) {
    await pgAdmin(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await pgAdmin(`DROP SCHEMA IF EXISTS ${name} CASCADE`, PG_KEYS).catch(() => {});
  }
});
const pgHarness = (name: string, extra: { batched?: boolean; pipeline?: boolean; prepared?: boolean }) => {
  let schema = '';
  const openPg = () => PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, ...extra });
  storageContract({
    name,
    create: async () => {
      schema = await pgSchema(name.replace(/\W+/g, '_'));
      return openPg();
    },
    reopen: openPg,
    commitsOf: (s) => (s as PostgresStorage).commits,
    raw: {
      async inputs(participantId: string) {
        const c = new pg.Client({ connectionString: PG });
        await c.connect();
        try {
          return (await c.query<{ v: number; sealed: string | null }>(`SELECT v, sealed FROM ${schema}.inputs WHERE participant_id = $1 ORDER BY seq`, [participantId])).rows;
        } finally {
          await c.end();
        }
      },
      async keys(participantId: string) {
        // In the key store's own database (S18), never in the main one.
        const c = new pg.Client({ connectionString: PG_KEYS });
        await c.connect();
        try {
          return Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.participant_keys WHERE participant_id = $1`, [participantId])).rows[0]?.n);
        } finally {
          await c.end();
        }
      },
    },
  });
};
pgHarness('postgres', {});
// The same rules hold with each statement its own (no merged runs) and without pipelining.
pgHarness('postgres, unbatched, not pipelined', { batched: false, pipeline: false });
// And with every statement parsed and planned each time (the writer's prepared statements off).
pgHarness('postgres, unprepared', { prepared: false });

const spaceA = { id: 'a', code: 'CODEA', name: 'a', status: 'open', capacity: 10_000, ttlMs: 1, stewardTokenHash: 'h', createdAt: 1, closedAt: null } as const;

describe('SQLite commit interval', () => {
  /** Lets pending turns and settled promises run (the in-thread committer settles at once). */
  const turns = async (n = 3) => {
    for (let k = 0; k < n; k++) await new Promise<void>((r) => setImmediate(r));
  };
  const participant = (id: string) => ({ id, spaceId: 'a', tokenHash: `t-${id}`, joinedAt: 1, lastSeq: 0, latest: null });

  it('[S3] a group due sooner than minCommitIntervalMs after the last one waits, gathering the calls made meanwhile; one due later goes after its turn', async () => {
    const clock = new ManualScheduler(0);
    const s = new SqliteStorage(openDatabase(':memory:'), { minCommitIntervalMs: 10, timer: clock });
    // Nothing sent before: the first group goes at once.
    await s.createSpace(spaceA);
    expect(s.commits).toBe(1);
    const settled: string[] = [];
    const one = s.createParticipant(participant('p1')).then(() => settled.push('p1'));
    await turns();
    expect([s.commits, settled]).toEqual([1, []]);
    clock.advance(5);
    const two = s.createParticipant(participant('p2')).then(() => settled.push('p2'));
    await turns();
    expect([s.commits, settled]).toEqual([1, []]);
    // 10 ms after the last group was sent: both calls, in call order, in one group.
    clock.advance(5);
    await Promise.all([one, two]);
    expect([s.commits, settled]).toEqual([2, ['p1', 'p2']]);
    // After a quiet spell a write is sent after its turn, with no wait.
    clock.advance(100);
    await s.createParticipant(participant('p3'));
    expect(s.commits).toBe(3);
    expect((await s.getParticipantByTokenHash('t-p2'))?.id).toBe('p2');
    await s.close();
  });

  it('[S3] close sends a group that waits for its turn at once', async () => {
    const clock = new ManualScheduler(0);
    const s = new SqliteStorage(openDatabase(':memory:'), { minCommitIntervalMs: 10, timer: clock });
    await s.createSpace(spaceA);
    const waiting = s.createParticipant(participant('p1'));
    await turns();
    expect(s.commits).toBe(1);
    await s.close(); // time never moves: close itself sends it
    await waiting;
    expect(s.commits).toBe(2);
  });

  it(`[S3] a file's groups start at least ${DEFAULT_MIN_COMMIT_INTERVAL_MS} ms apart by default; :memory: has no interval`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'attune-interval-')), 'test.db');
    const d = openDatabase(file);
    const asked: number[] = [];
    const clock = new ManualScheduler(0);
    const timer = { now: () => clock.now(), at: (t: number, fn: () => void) => (asked.push(t), clock.at(t, fn)) };
    const s = new SqliteStorage(d, { timer });
    await s.createSpace(spaceA);
    const next = s.createParticipant(participant('p1'));
    expect(asked).toEqual([DEFAULT_MIN_COMMIT_INTERVAL_MS]);
    clock.advance(DEFAULT_MIN_COMMIT_INTERVAL_MS);
    await next;
    expect(s.commits).toBe(2);
    await s.close();
    d.close();
    const m = new SqliteStorage(openDatabase(':memory:'), { timer });
    await m.createSpace(spaceA);
    await m.createParticipant(participant('p1'));
    expect([m.commits, asked.length]).toEqual([2, 1]);
    await m.close();
  });
});

describe('SQLite writer thread', () => {
  it('[S3] a writer thread that dies rejects the write in flight and every later one with a clear error; reads go on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'attune-crash-')), 'test.db');
    const d = openDatabase(file);
    const s = new SqliteStorage(d);
    // The writer starts with the first write. Replace the file by a directory first: the
    // thread's own connection cannot open it, and the thread dies of the uncaught error.
    rmSync(file);
    mkdirSync(file);
    const first = s.createSpace(spaceA);
    await expect(first).rejects.toThrow(/SQLite writer thread stopped: it threw .*unable to open database file.*may or may not have committed/);
    await expect(s.createSpace(spaceA)).rejects.toThrow(/SQLite writer thread stopped/);
    await expect(s.appendEvents([{ spaceId: 'a', n: 1, at: 1, kind: 'started', participantId: null, body: null }])).rejects.toThrow(/no further write is accepted/);
    expect(await s.listSpaces()).toEqual([]); // the main connection still reads its (unlinked) file
    await s.close();
    d.close();
  });

  it('[S3] the log store writes beside the writer thread on the same file: a batch waits for a group to commit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'attune-shared-')), 'test.db');
    const d = openDatabase(file);
    const s = new SqliteStorage(d);
    const log = new SqliteLogStore(d);
    await s.createSpace(spaceA);
    await log.append({ start: 0, entries: [new Uint8Array([0])], tiles: [] });
    // A group big enough to hold the write lock for a while (a join storm). Wait until the
    // writer thread holds the lock: a third connection that never waits says so. On a loaded
    // machine a storm can commit before the probe looks; then another storm, bigger.
    const probe = openDatabase(file);
    probe.exec('PRAGMA busy_timeout = 0');
    const storms: Promise<unknown>[] = [];
    let held = false;
    for (let attempt = 0; attempt < 6 && !held; attempt++) {
      const size = 5_000 * 2 ** attempt;
      const base = storms.length ? 1_000_000 * attempt : 0;
      let settled = false;
      const storm = Promise.all(Array.from({ length: size }, (_, i) => s.createParticipant({ id: `p${base + i}`, spaceId: 'a', tokenHash: `t${base + i}`, joinedAt: i, lastSeq: 0, latest: null }))).then(() => {
        settled = true;
      });
      storms.push(storm);
      while (!held && !settled) {
        await new Promise((r) => setImmediate(r));
        try {
          probe.exec('BEGIN IMMEDIATE');
          probe.exec('ROLLBACK');
        } catch {
          held = true;
        }
      }
    }
    probe.close();
    expect(held).toBe(true);
    // The batch must wait for the lock (busy_timeout), not fail with 'database is locked'.
    await log.append({ start: 1, entries: [new Uint8Array([1])], tiles: [] });
    await log.putMeta('checkpoint', new Uint8Array([1]));
    await Promise.all(storms);
    expect(await log.size()).toBe(2);
    expect(await s.countParticipants('a')).toBe(storms.reduce((n, _, i) => n + 5_000 * 2 ** i, 0));
    await s.close();
    d.close();
  });
});

/**
 * The schema of the version before event numbers, verbatim (sqliteStorage.ts at a59cb22): such a
 * file has user_version 0, inputs without `n` and no events table.
 */
const PREVIOUS_SCHEMA = `
CREATE TABLE IF NOT EXISTS spaces (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open','closed')),
  capacity INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  steward_token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  closed_at INTEGER
);
CREATE TABLE IF NOT EXISTS participants (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  token_hash TEXT NOT NULL UNIQUE,
  joined_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  v REAL, a REAL, c REAL, src TEXT, at INTEGER
);
CREATE INDEX IF NOT EXISTS participants_space_at ON participants(space_id, at);
CREATE TABLE IF NOT EXISTS inputs (
  space_id TEXT NOT NULL,
  participant_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  v REAL NOT NULL, a REAL NOT NULL, c REAL NOT NULL, src TEXT NOT NULL, at INTEGER NOT NULL,
  exposed INTEGER NOT NULL,
  shown_v REAL, shown_a REAL,
  PRIMARY KEY (participant_id, seq)
);
CREATE INDEX IF NOT EXISTS inputs_space_at ON inputs(space_id, at);
CREATE TABLE IF NOT EXISTS pulse_points (
  space_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  count INTEGER NOT NULL,
  v REAL NOT NULL, a REAL NOT NULL, sv REAL NOT NULL, sa REAL NOT NULL,
  q0 REAL NOT NULL, q1 REAL NOT NULL, q2 REAL NOT NULL, q3 REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pulse_points_space_at ON pulse_points(space_id, at);
`;

/** Writes a database file the way the previous version left it: one space, one participant, two inputs. */
function previousVersionFile(schema: string, withShown: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), 'attune-migrate-')), 'attune.db');
  const old = openDatabase(file);
  old.exec(schema);
  old.exec("INSERT INTO spaces VALUES ('a', 'CODEA', 'old', 'open', 100, 120000, 'hash', 1, NULL)");
  old.exec("INSERT INTO participants VALUES ('p1', 'a', 'tok-p1', 5, 2, 0.5, -0.5, 1, 'tap', 20)");
  const cols = withShown ? '(space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a)' : '(space_id, participant_id, seq, v, a, c, src, at, exposed)';
  const shown = withShown ? ', 0.25, 0.75' : '';
  old.exec(`INSERT INTO inputs ${cols} VALUES ('a', 'p1', 1, 0.1, -0.1, 1, 'tap', 10, 1${shown}), ('a', 'p1', 2, 0.5, -0.5, 1, 'tap', 20, 0${shown})`);
  old.close();
  return file;
}

describe('SQLite schema migrations', () => {
  const versionOf = (d: DatabaseSync) => Number((d.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);

  it(`[S9] a database from the previous version opens at version ${SCHEMA_VERSION} and keeps working`, async () => {
    const file = previousVersionFile(PREVIOUS_SCHEMA, true);
    let d = openDatabase(file);
    expect(versionOf(d)).toBe(0);
    let s = new SqliteStorage(d);
    expect(versionOf(d)).toBe(SCHEMA_VERSION);
    // The old rows read as before; they have no n.
    expect((await s.getParticipantByTokenHash('tok-p1'))?.lastSeq).toBe(2);
    const old = await s.listInputs('a', 0, 100, 10);
    expect(old.map((i) => [i.seq, i.n, i.shown])).toEqual([
      [1, undefined, { valence: 0.25, arousal: 0.75 }],
      [2, undefined, { valence: 0.25, arousal: 0.75 }],
    ]);
    expect(await s.listInputsByN('a', 0, 10)).toEqual([]);
    expect(await s.lastEventN('a')).toBe(0);
    // The new tables and columns work, and the old rows still count for seq idempotence.
    await s.appendEvents([{ spaceId: 'a', n: 1, at: 30, kind: 'started', participantId: null, body: null }]);
    await s.appendInputs([
      { spaceId: 'a', participantId: 'p1', seq: 2, n: 2, affect: { valence: 0, arousal: 0, confidence: 1, source: 'tap', at: 31 }, exposed: false, shown: null },
      { spaceId: 'a', participantId: 'p1', seq: 3, n: 3, affect: { valence: 0, arousal: 0, confidence: 1, source: 'tap', at: 32 }, exposed: false, shown: null },
    ]);
    expect((await s.listInputsByN('a', 0, 10)).map((i) => [i.seq, i.n])).toEqual([[3, 3]]);
    expect(await s.lastEventN('a')).toBe(3);
    await s.close();
    d.close();
    // Opening again is a no-op migration.
    d = openDatabase(file);
    s = new SqliteStorage(d);
    expect(versionOf(d)).toBe(SCHEMA_VERSION);
    expect(await s.lastEventN('a')).toBe(3);
    expect(await s.listInputs('a', 0, 100, 10)).toHaveLength(3);
    await s.close();
    d.close();
  });

  it('[S9] a database from before the contagion fields gains them too', async () => {
    const file = previousVersionFile(PREVIOUS_SCHEMA.replace('  shown_v REAL, shown_a REAL,\n', ''), false);
    const d = openDatabase(file);
    const s = new SqliteStorage(d);
    expect(versionOf(d)).toBe(SCHEMA_VERSION);
    expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.shown)).toEqual([null, null]);
    await s.close();
    d.close();
  });

  it('[S9] a database from a newer version is refused, unchanged', () => {
    const file = previousVersionFile(PREVIOUS_SCHEMA, true);
    const d = openDatabase(file);
    d.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    expect(() => new SqliteStorage(d)).toThrow(/newer/);
    expect(versionOf(d)).toBe(SCHEMA_VERSION + 1);
    expect(d.prepare("SELECT name FROM sqlite_master WHERE name = 'events'").get()).toBeUndefined();
    d.close();
  });

  it('[S9] the new queries use the (space_id, n) indexes', () => {
    const d = openDatabase(':memory:');
    new SqliteStorage(d);
    const plan = (sql: string) => (d.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT * FROM inputs WHERE space_id = 'a' AND n >= 1 ORDER BY n LIMIT 10")).toMatch(/USING INDEX inputs_space_n/);
    expect(plan("SELECT max(n) FROM inputs WHERE space_id = 'a' AND n IS NOT NULL")).toMatch(/inputs_space_n/);
    expect(plan("SELECT * FROM events WHERE space_id = 'a' AND n >= 1 ORDER BY n LIMIT 10")).toMatch(/USING PRIMARY KEY \(space_id=\? AND n>\?\)/);
    d.close();
  });
});

describe('SQLite key store (S18)', () => {
  const p1 = { id: 'p1', spaceId: 'a', tokenHash: 'tok-p1', joinedAt: 5, lastSeq: 0, latest: null };
  const tap = (seq: number, valence: number) => ({ spaceId: 'a', participantId: 'p1', seq, affect: { valence, arousal: 0.5, confidence: 1, source: 'tap' as const, at: 10 + seq }, exposed: false, shown: null });
  const rowsOf = (file: string, sql: string) => {
    const d = new DatabaseSync(file, { readOnly: true });
    try {
      return d.prepare(sql).all() as Record<string, unknown>[];
    } finally {
      d.close();
    }
  };

  it('[S18][S16] keys live in their own file beside the database; a copy of the database alone opens nothing, and a new empty key store is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-keys-'));
    const file = join(dir, 'attune.db');
    const d = openDatabase(file);
    const s = new SqliteStorage(d);
    expect(s.keysPath).toBe(join(dir, 'attune.keys.db'));
    await s.createSpace(spaceA);
    await s.createParticipant(p1);
    await s.appendInputs([tap(1, 0.7)]);
    expect(rowsOf(file, "SELECT name FROM sqlite_master WHERE name = 'participant_keys'")).toEqual([]);
    expect(rowsOf(s.keysPath, 'SELECT participant_id FROM participant_keys')).toEqual([{ participant_id: 'p1' }]);
    expect(statSync(s.keysPath).mode & 0o777).toBe(0o600);
    // A backup of the database file: sealed inputs, no key.
    const backup = join(dir, 'backup.db');
    d.exec(`VACUUM INTO '${backup}'`);
    await s.close();
    d.close();
    // Restored elsewhere without its key store: refused with a clear message, and no empty store is left behind.
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'attune-keys-')), 'attune.db');
    copyFileSync(backup, elsewhere);
    const e = openDatabase(elsewhere);
    expect(() => new SqliteStorage(e)).toThrow(/key store .* is new, but this database holds inputs sealed .* --keys PATH/);
    expect(existsSync(join(dirname(elsewhere), 'attune.keys.db'))).toBe(false);
    e.close();
    // With the key store that belongs to it (--keys), it opens.
    const f = openDatabase(elsewhere);
    const t = new SqliteStorage(f, { keysPath: join(dir, 'attune.keys.db') });
    expect((await t.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.7]);
    // Erasure deletes the key from the key store: the backup's sealed inputs open for nobody.
    await t.eraseParticipant('p1');
    await t.close();
    f.close();
    expect(rowsOf(join(dir, 'attune.keys.db'), 'SELECT participant_id FROM participant_keys')).toEqual([]);
    const g = openDatabase(backup);
    const u = new SqliteStorage(g, { keysPath: join(dir, 'attune.keys.db') });
    expect(rowsOf(backup, 'SELECT sealed FROM inputs')).toHaveLength(1);
    expect(await u.listInputs('a', 0, 100, 10)).toEqual([]);
    expect((await u.getParticipantByTokenHash('tok-p1'))?.latest).toBeNull();
    await u.close();
    g.close();
  });

  it('[S18][S9] a database of schema 10 (keys in the file) moves its keys to the key store on open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-keys-'));
    const file = join(dir, 'old.db');
    const d = openDatabase(file);
    let s = new SqliteStorage(d);
    await s.createSpace(spaceA);
    await s.createParticipant(p1);
    await s.appendInputs([tap(1, 0.3)]);
    await s.close();
    d.close();
    // Put it back as schema 10 left it: the key in the database file, no key store.
    const keysPath = join(dir, 'old.keys.db');
    const raw = new DatabaseSync(file);
    raw.exec(`ATTACH DATABASE '${keysPath}' AS keys; CREATE TABLE main.participant_keys (participant_id TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID; INSERT INTO main.participant_keys SELECT * FROM keys.participant_keys; DETACH DATABASE keys; PRAGMA user_version = 10;`);
    raw.close();
    rmSync(keysPath);
    for (const x of ['-wal', '-shm']) rmSync(`${keysPath}${x}`, { force: true });
    const e = openDatabase(file);
    s = new SqliteStorage(e);
    expect(Number((e.prepare('PRAGMA main.user_version').get() as { user_version: number }).user_version)).toBe(SCHEMA_VERSION);
    expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.3]);
    await s.close();
    e.close();
    expect(rowsOf(file, "SELECT name FROM sqlite_master WHERE name = 'participant_keys'")).toEqual([]);
    expect(rowsOf(keysPath, 'SELECT participant_id FROM participant_keys')).toEqual([{ participant_id: 'p1' }]);
  });

  it('[S18] a participant without a stored key (from before sealing, or a key lost between the two files’ commits) gets one: nothing new is stored in the clear', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-keys-'));
    const file = join(dir, 'a.db');
    let d = openDatabase(file);
    let s = new SqliteStorage(d);
    await s.createSpace(spaceA);
    await s.createParticipant(p1);
    await s.close();
    d.close();
    const k = new DatabaseSync(join(dir, 'a.keys.db'));
    k.exec('DELETE FROM participant_keys');
    k.close();
    d = openDatabase(file);
    s = new SqliteStorage(d);
    await s.appendInputs([tap(1, -0.4)]);
    expect(rowsOf(file, 'SELECT v, sealed IS NOT NULL AS sealed FROM inputs')).toEqual([{ v: 0, sealed: 1 }]);
    await s.close();
    d.close();
    d = openDatabase(file);
    s = new SqliteStorage(d);
    expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([-0.4]);
    await s.close();
    d.close();
  });
});

describe('PostgreSQL writer: prepared statements', () => {
  const p = (id: string) => ({ id, spaceId: 'a', tokenHash: `tok-${id}`, joinedAt: 5, lastSeq: 0, latest: null });
  const tap = (pid: string, seq: number) => ({ spaceId: 'a', participantId: pid, seq, affect: { valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap' as const, at: 10 + seq }, exposed: false, shown: null });
  const ev = (n: number) => ({ spaceId: 'a', n, at: 1000 + n, kind: 'tick', participantId: null, body: null });
  it('[S3][S8] a group whose first statement raises before the others were ever prepared rolls back; the same statements commit in the next groups, on the same connection', async () => {
    const schema = await pgSchema('prepared');
    const s = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}` });
    try {
      await s.createSpace(spaceA);
      await s.createParticipant(p('p1'));
      // One group (one turn): the input raises (unknown participant) ahead of the first ever
      // appendEvents and appendInputs of this connection; the event and p1's input stand alone.
      const [ghost, events, mine] = await Promise.allSettled([s.appendInputs([tap('ghost', 1)]), s.appendEvents([ev(1)]), s.appendInputs([tap('p1', 1)])]);
      expect(ghost.status).toBe('rejected');
      expect(events.status).toBe('fulfilled');
      expect(mine.status).toBe('fulfilled');
      // Later groups reuse the same names on the same connection.
      for (let k = 2; k <= 4; k++) await Promise.all([s.appendEvents([ev(k)]), s.appendInputs([tap('p1', k)])]);
      expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.seq)).toEqual([1, 2, 3, 4]);
      expect((await s.listEvents('a', 0, 100)).map((e) => e.n)).toEqual([1, 2, 3, 4]);
    } finally {
      await s.close();
    }
  });
});

describe('PostgreSQL commit interval', () => {
  const p = (id: string) => ({ id, spaceId: 'a', tokenHash: `tok-${id}`, joinedAt: 5, lastSeq: 0, latest: null });
  /** Whether `x` has settled, after a round trip to the server (so a group sent would have been seen). */
  const settledAfterRoundTrip = async (s: PostgresStorage, x: Promise<unknown>) => {
    let done = false;
    void x.then(() => (done = true));
    await s.getSpace('a');
    await new Promise<void>((r) => setImmediate(r));
    return done;
  };

  it('[S3] a group due sooner than minCommitIntervalMs after the last one waits, gathering the calls made meanwhile; one due later goes after its turn', async () => {
    const schema = await pgSchema('interval');
    const clock = new ManualScheduler(0);
    const s = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, minCommitIntervalMs: 10, timer: clock });
    try {
      // Nothing sent before: the first group goes at once.
      await s.createSpace(spaceA);
      expect(s.commits).toBe(1);
      const one = s.createParticipant(p('p1'));
      expect(await settledAfterRoundTrip(s, one)).toBe(false);
      clock.advance(5);
      const two = s.createParticipant(p('p2'));
      expect(await settledAfterRoundTrip(s, two)).toBe(false);
      expect(s.commits).toBe(1);
      // 10 ms after the last group was sent: both calls in one group.
      clock.advance(5);
      await Promise.all([one, two]);
      expect(s.commits).toBe(2);
      // After a quiet spell a write is sent after its turn, with no wait.
      clock.advance(100);
      await s.createParticipant(p('p3'));
      expect(s.commits).toBe(3);
      expect((await s.getParticipantByTokenHash('tok-p2'))?.id).toBe('p2');
    } finally {
      await s.close();
    }
  });

  it('[S3] close sends a group that waits for its turn at once; the default interval is 10 ms, and 0 turns it off', async () => {
    const schema = await pgSchema('interval_close');
    const clock = new ManualScheduler(0);
    const asked: number[] = [];
    const timer = { now: () => clock.now(), at: (t: number, fn: () => void) => (asked.push(t), clock.at(t, fn)) };
    const s = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, timer });
    await s.createSpace(spaceA);
    const waiting = s.createParticipant(p('p1'));
    expect(asked).toEqual([DEFAULT_PG_MIN_COMMIT_INTERVAL_MS]);
    expect(DEFAULT_PG_MIN_COMMIT_INTERVAL_MS).toBe(10);
    await s.close(); // time never moves: close itself sends it
    await waiting;
    expect(s.commits).toBe(2);
    const eager = await PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, timer, minCommitIntervalMs: 0 });
    try {
      await eager.createParticipant(p('p2'));
      await eager.createParticipant(p('p3'));
      expect([eager.commits, asked.length]).toEqual([2, 1]);
    } finally {
      await eager.close();
    }
    await expect(PostgresStorage.open({ connectionString: PG, minCommitIntervalMs: -1 })).rejects.toThrow(/minCommitIntervalMs must be ≥ 0, got -1/);
  });
});

describe('PostgreSQL key store (S18)', () => {
  const p = (id: string) => ({ id, spaceId: 'a', tokenHash: `tok-${id}`, joinedAt: 5, lastSeq: 0, latest: null });
  const tap = (pid: string, seq: number, valence: number) => ({ spaceId: 'a', participantId: pid, seq, affect: { valence, arousal: 0.5, confidence: 1, source: 'tap' as const, at: 10 + seq }, exposed: false, shown: null });
  /** Rows of a query on the database at `at` (the main one by default). */
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], at = PG): Promise<T[]> => {
    const c = new pg.Client({ connectionString: at });
    await c.connect();
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  /** `pg_dump` of one schema of the database at `at`: what a backup of it holds, as text. */
  const dump = (schema: string, at = PG) => execFileSync('pg_dump', ['--no-owner', '--schema', schema, '--dbname', at], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const openAt = (schema: string, keys?: string) => PostgresStorage.open({ connectionString: PG, options: `-c search_path=${schema}`, ...(keys ? { keys: { connectionString: PG_KEYS, options: `-c search_path=${keys}` } } : {}) });
  /** Every key the key store of `schema` holds, as hex. */
  const keyHex = async (schema: string) => (await q<{ k: string }>(`SELECT encode(key, 'hex') AS k FROM ${schema}.participant_keys`, [], PG_KEYS)).map((r) => r.k);

  it('[S18][S16] keys live in the sibling database <db>_keys; a dump of the main database holds sealed inputs and no key; after erasure a restored dump opens nothing of theirs, and the key database holds no input', async () => {
    const schema = await pgSchema('keys_backup');
    let s = await openAt(schema);
    expect(s.keyStore.database).toBe('test_keys');
    await s.createSpace(spaceA);
    await s.createParticipant(p('alice'));
    await s.createParticipant(p('bob'));
    await s.appendInputs([tap('alice', 1, 0.7), tap('bob', 1, -0.3), tap('alice', 2, 0.6)]);
    // The main database has no key table at all.
    expect(await q(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'participant_keys'`, [schema])).toEqual([]);
    const keys = await keyHex(schema);
    expect(keys).toHaveLength(2);
    // A backup of the main database, taken before the erasure: ciphertext, no key.
    const backup = dump(schema);
    const sealed = (await q<{ sealed: string }>(`SELECT sealed FROM ${schema}.inputs WHERE participant_id = 'alice'`)).map((r) => r.sealed);
    expect(sealed).toHaveLength(2);
    for (const c of sealed) expect(backup).toContain(c);
    for (const k of keys) {
      expect(backup).not.toContain(k);
      expect(backup).not.toContain(Buffer.from(k, 'hex').toString('base64'));
    }
    // The key database alone: keys and its version, no input, no participant, no sealed value.
    const keyDump = dump(schema, PG_KEYS);
    expect((await q<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema], PG_KEYS)).map((r) => r.t)).toEqual(['attune_keys_schema', 'participant_keys']);
    for (const c of sealed) expect(keyDump).not.toContain(c);
    expect(keyDump).not.toMatch(/0\.7|valence|tok-alice/);

    expect(await s.eraseParticipant('alice')).toEqual({ inputs: 2 });
    // Everything left in the main database, every table and row as text: nothing of alice's, no key.
    const tables = (await q<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1', [schema])).map((r) => r.t);
    const everything = (await Promise.all(tables.map((t) => q<{ r: string }>(`SELECT t::text AS r FROM ${schema}.${t} t`)))).flat().map((r) => r.r).join('\n');
    expect(everything).not.toContain('alice');
    for (const k of keys) expect(everything).not.toContain(k);
    expect(await keyHex(schema)).toHaveLength(1); // bob's

    // Restore the old backup (into a schema of its own) beside the same key store: bob's inputs
    // open, alice's are there as ciphertext and open for nobody.
    const restored = await pgSchema('keys_restored');
    await pgAdmin(`DROP SCHEMA ${restored}`);
    execFileSync('psql', ['--quiet', '--set', 'ON_ERROR_STOP=1', '--dbname', PG], { input: backup.replaceAll(schema, restored), encoding: 'utf8' });
    expect(await q(`SELECT 1 FROM ${restored}.inputs WHERE participant_id = 'alice'`)).toHaveLength(2);
    await s.close();
    const r = await openAt(restored, schema);
    expect((await r.listInputs('a', 0, 100, 10)).map((i) => [i.participantId, i.affect.valence])).toEqual([['bob', -0.3]]);
    expect(await r.listParticipantInputs('alice')).toEqual([]);
    expect((await r.getParticipantByTokenHash('tok-alice'))?.latest).toBeNull();
    await r.close();
    // A restart of the live database brings nothing back either.
    s = await openAt(schema);
    expect(await s.getParticipantByTokenHash('tok-alice')).toBeNull();
    expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.participantId)).toEqual(['bob']);
    await s.close();
  });

  it('[S18][S17] retention deletes the keys in the key database first, then the rows', async () => {
    const schema = await pgSchema('keys_purge');
    const s = await openAt(schema);
    await s.createSpace(spaceA);
    await s.createParticipant(p('alice'));
    await s.appendInputs([tap('alice', 1, 0.7)]);
    expect(await keyHex(schema)).toHaveLength(1);
    expect(await s.purgeSpace('a', 100)).toMatchObject({ participants: 1, inputs: 1, sealedInputs: 1 });
    expect(await keyHex(schema)).toEqual([]);
    await s.close();
  });

  it('[S18][S11] a database pointed at another key store is refused (a cluster node with another --keys, a restore beside a new empty store); with its own it opens', async () => {
    const schema = await pgSchema('keys_bound');
    const s = await openAt(schema);
    await s.createSpace(spaceA);
    await s.createParticipant(p('alice'));
    await s.appendInputs([tap('alice', 1, 0.7)]);
    // A second node of the same database: the same (default) key store, so it opens what the first sealed.
    const other = await openAt(schema);
    expect((await other.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.7]);
    await other.close();
    await s.close();
    const elsewhere = await pgSchema('keys_elsewhere');
    await expect(openAt(schema, elsewhere)).rejects.toThrow(/key store .* is not the one this database's keys are in.*--keys URL/);
    const again = await openAt(schema, schema);
    expect((await again.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.7]);
    await again.close();
  });

  it('[S18][S11] a database of schema 8 (keys in participant_keys beside the inputs) moves them to the key store and drops the table', async () => {
    const schema = await pgSchema('keys_v8');
    let s = await openAt(schema);
    await s.createSpace(spaceA);
    await s.createParticipant(p('alice'));
    await s.appendInputs([tap('alice', 1, 0.3)]);
    await s.close();
    const keys = await keyHex(schema);
    // Put it back as schema 8 left it: the keys in the main database, no key store at all.
    await q(`CREATE TABLE ${schema}.participant_keys (participant_id TEXT PRIMARY KEY, key BYTEA NOT NULL)`);
    await q(`INSERT INTO ${schema}.participant_keys VALUES ('alice', decode($1, 'hex'))`, [keys[0]]);
    await q(`DROP TABLE ${schema}.key_store`);
    await q(`UPDATE ${schema}.attune_schema SET version = 8`);
    await pgAdmin(`DROP SCHEMA ${schema} CASCADE`, PG_KEYS);
    s = await openAt(schema);
    expect((await q<{ version: number }>(`SELECT version FROM ${schema}.attune_schema`))[0]?.version).toBe(PG_SCHEMA_VERSION);
    expect(await q(`SELECT to_regclass('${schema}.participant_keys')::text AS t`)).toEqual([{ t: null }]);
    expect(await keyHex(schema)).toEqual(keys);
    expect((await s.listInputs('a', 0, 100, 10)).map((i) => i.affect.valence)).toEqual([0.3]);
    await s.close();
  });
});
