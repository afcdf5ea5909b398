/**
 * SQLite Storage (embedded default), on Node's built-in `node:sqlite`.
 *
 * Every write is group-committed (SPEC S3): each write call made in the same turn of the event
 * loop joins one queue, and the queue commits in ONE transaction, applying the calls in exactly
 * call order. Each call's promise settles only after that transaction's COMMIT returned — with
 * `synchronous = FULL` in WAL mode, that is when it is durable. A call that fails rolls back
 * alone to its savepoint and the others commit. Because the whole group runs synchronously
 * between two turns, no read can see a write before its COMMIT: durable, then visible.
 *
 * A call that runs at most one modifying statement needs no savepoint: SQLite already undoes a
 * failing statement alone and keeps the transaction (the ABORT conflict resolution), which keeps
 * a join storm (thousands of `createParticipant` in one turn) at one cheap transaction.
 *
 * The schema is versioned with `PRAGMA user_version` (SPEC S9); `MIGRATIONS[v]` takes a database
 * from version v to v + 1, and opening runs the missing steps in one savepoint.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Affect, AffectSource } from '../../core/affect.ts';
import type { InputRecord, ParticipantRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage } from '../port.ts';

/** The schema before versioning (user_version 0): what every database had up to event numbers. */
const SCHEMA_V1 = `
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

/** Column names of a table. */
function columnsOf(db: DatabaseSync, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).map((c) => String(c.name)));
}

/**
 * Schema steps: `MIGRATIONS[v]` takes a database at user_version v to v + 1. Steps only add
 * (columns, tables, indexes), so an older attune reading a newer file is refused instead.
 */
const MIGRATIONS: readonly ((db: DatabaseSync) => void)[] = [
  // 0 → 1: the unversioned schema. A fresh file gets it whole; a file from before the contagion
  // fields (S3a) gains the two nullable columns.
  (db) => {
    db.exec(SCHEMA_V1);
    if (!columnsOf(db, 'inputs').has('shown_v')) db.exec('ALTER TABLE inputs ADD COLUMN shown_v REAL; ALTER TABLE inputs ADD COLUMN shown_a REAL;');
  },
  // 1 → 2: machine event numbers (S7, S8). Inputs gain a nullable n (NULL on older rows); the
  // partial unique index serves listInputsByN, lastEventN and the duplicate check at once.
  (db) => {
    if (!columnsOf(db, 'inputs').has('n')) db.exec('ALTER TABLE inputs ADD COLUMN n INTEGER');
    db.exec(`
CREATE UNIQUE INDEX IF NOT EXISTS inputs_space_n ON inputs(space_id, n) WHERE n IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
  space_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  participant_id TEXT,
  body TEXT,
  PRIMARY KEY (space_id, n)
) WITHOUT ROWID;
`);
  },
];

/** The schema version this code writes (`PRAGMA user_version`). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION, all steps or none; refuses a newer file. */
function migrate(db: DatabaseSync): void {
  // A savepoint works inside or outside a caller's transaction and takes the write lock at once.
  db.exec('SAVEPOINT migrate');
  try {
    const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version);
    if (version > SCHEMA_VERSION) throw new Error(`database schema version ${version} is newer than this attune's (${SCHEMA_VERSION}); upgrade attune`);
    for (let v = version; v < SCHEMA_VERSION; v++) (MIGRATIONS[v] as (db: DatabaseSync) => void)(db);
    // PRAGMA takes no bound parameters; SCHEMA_VERSION is our own integer.
    if (version !== SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('RELEASE migrate');
  } catch (e) {
    db.exec('ROLLBACK TO migrate');
    db.exec('RELEASE migrate');
    throw e;
  }
}

/** Throws unless `n` is a valid event number (a positive safe integer; numbering starts at 1). */
function checkEventNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`event number must be a positive integer, got ${n}`);
}

type Row = Record<string, unknown>;

function spaceFrom(r: Row): SpaceRecord {
  return {
    id: String(r.id),
    code: String(r.code),
    name: String(r.name),
    status: r.status === 'closed' ? 'closed' : 'open',
    capacity: Number(r.capacity),
    ttlMs: Number(r.ttl_ms),
    stewardTokenHash: String(r.steward_token_hash),
    createdAt: Number(r.created_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
  };
}

function affectFrom(r: Row): Affect | null {
  if (r.v === null || r.v === undefined) return null;
  return { valence: Number(r.v), arousal: Number(r.a), confidence: Number(r.c), source: String(r.src) as AffectSource, at: Number(r.at) };
}

function participantFrom(r: Row): ParticipantRecord {
  return {
    id: String(r.id),
    spaceId: String(r.space_id),
    tokenHash: String(r.token_hash),
    joinedAt: Number(r.joined_at),
    lastSeq: Number(r.last_seq),
    latest: affectFrom(r),
  };
}

function inputFrom(r: Row): InputRecord {
  const base = {
    spaceId: String(r.space_id),
    participantId: String(r.participant_id),
    seq: Number(r.seq),
    affect: affectFrom(r) as Affect,
    exposed: Number(r.exposed) === 1,
    shown: r.shown_v === null || r.shown_v === undefined ? null : { valence: Number(r.shown_v), arousal: Number(r.shown_a) },
  };
  return r.n === null || r.n === undefined ? base : { ...base, n: Number(r.n) };
}

function eventFrom(r: Row): SpaceEventRecord {
  return {
    spaceId: String(r.space_id),
    n: Number(r.n),
    at: Number(r.at),
    kind: String(r.kind),
    participantId: r.participant_id === null ? null : String(r.participant_id),
    body: r.body === null ? null : String(r.body),
  };
}

/** Every statement the adapter runs, prepared once. */
function prepareStatements(db: DatabaseSync) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT one'),
    release: db.prepare('RELEASE one'),
    rollbackTo: db.prepare('ROLLBACK TO one'),
    insertSpace: db.prepare('INSERT OR IGNORE INTO spaces (id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?)'),
    spaceByCode: db.prepare('SELECT * FROM spaces WHERE code = ?'),
    spaceById: db.prepare('SELECT * FROM spaces WHERE id = ?'),
    listSpaces: db.prepare('SELECT * FROM spaces ORDER BY created_at, id'),
    closeSpace: db.prepare("UPDATE spaces SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'"),
    stewardHash: db.prepare('UPDATE spaces SET steward_token_hash = ? WHERE id = ?'),
    insertParticipant: db.prepare('INSERT INTO participants (id, space_id, token_hash, joined_at, last_seq, v, a, c, src, at) VALUES (?,?,?,?,?,?,?,?,?,?)'),
    participantByToken: db.prepare('SELECT * FROM participants WHERE token_hash = ?'),
    participantLastSeq: db.prepare('SELECT last_seq, space_id FROM participants WHERE id = ?'),
    activeParticipants: db.prepare('SELECT * FROM participants WHERE space_id = ? AND at IS NOT NULL AND at >= ?'),
    countParticipants: db.prepare('SELECT COUNT(*) AS n FROM participants WHERE space_id = ?'),
    // Only a replayed (participant, seq) is skipped; a duplicate n still fails (S8).
    insertInput: db.prepare(
      'INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (participant_id, seq) DO NOTHING',
    ),
    updateLatest: db.prepare('UPDATE participants SET last_seq = ?, v = ?, a = ?, c = ?, src = ?, at = ? WHERE id = ?'),
    listInputs: db.prepare('SELECT * FROM inputs WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
    listInputsByN: db.prepare('SELECT * FROM inputs WHERE space_id = ? AND n >= ? ORDER BY n LIMIT ?'),
    inputHasN: db.prepare('SELECT 1 AS x FROM inputs WHERE space_id = ? AND n = ?'),
    clearLatest: db.prepare('UPDATE participants SET v = NULL, a = NULL, c = NULL, src = NULL, at = NULL WHERE id = ?'),
    insertEvent: db.prepare('INSERT INTO events (space_id, n, at, kind, participant_id, body) VALUES (?,?,?,?,?,?)'),
    eventHasN: db.prepare('SELECT 1 AS x FROM events WHERE space_id = ? AND n = ?'),
    listEvents: db.prepare('SELECT * FROM events WHERE space_id = ? AND n >= ? ORDER BY n LIMIT ?'),
    lastEventN: db.prepare(
      'SELECT max(coalesce((SELECT max(n) FROM events WHERE space_id = ?), 0), coalesce((SELECT max(n) FROM inputs WHERE space_id = ? AND n IS NOT NULL), 0)) AS n',
    ),
    insertPulse: db.prepare('INSERT INTO pulse_points (space_id, at, count, v, a, sv, sa, q0, q1, q2, q3) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    listPulses: db.prepare('SELECT * FROM pulse_points WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
  };
}

/** One queued write call. */
interface Write {
  /** Runs the call's statements inside the group's transaction; its return value resolves the call. */
  readonly apply: () => unknown;
  /** Runs at most one modifying statement, so a failure undoes itself without a savepoint. */
  readonly single: boolean;
  readonly resolve: (value: never) => void;
  readonly reject: (e: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Storage over one SQLite database handle (see openDatabase.ts). */
export class SqliteStorage implements Storage {
  private readonly db: DatabaseSync;
  private readonly st: ReturnType<typeof prepareStatements>;
  private pending: Write[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Number of group commits made (for tests and metrics). */
  commits = 0;

  constructor(db: DatabaseSync) {
    this.db = db;
    migrate(db);
    this.st = prepareStatements(db);
  }

  private check(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  /** Queues a write call; it commits, in call order, with the rest of its turn's group. */
  private enqueue<T>(single: boolean, apply: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ apply, single, resolve: resolve as (value: never) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending write call in one transaction, in order, then settles their promises. */
  private flush(): void {
    this.flushScheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    const outcomes: Outcome[] = [];
    try {
      this.st.begin.run();
      for (const w of group) outcomes.push(w.single ? this.applySingle(w) : this.applyInSavepoint(w));
      this.st.commit.run();
      this.commits++;
    } catch (e) {
      // The transaction itself failed (BEGIN, COMMIT, or an error that ended it): nothing of the
      // group is durable, so every call rejects — with its own error if it had already failed.
      if (this.db.isTransaction) {
        try {
          this.st.rollback.run();
        } catch {
          /* already rolled back */
        }
      }
      group.forEach((w, k) => {
        const o = outcomes[k];
        w.reject(o && !o.ok ? o.error : e);
      });
      return;
    }
    group.forEach((w, k) => {
      const o = outcomes[k] as Outcome;
      if (o.ok) w.resolve(o.value as never);
      else w.reject(o.error);
    });
  }

  private applySingle(w: Write): Outcome {
    try {
      return { ok: true, value: w.apply() };
    } catch (error) {
      // SQLite undid the failing statement alone — unless the error ended the transaction
      // (e.g. SQLITE_FULL), in which case the whole group must fail.
      if (!this.db.isTransaction) throw error;
      return { ok: false, error };
    }
  }

  private applyInSavepoint(w: Write): Outcome {
    this.st.savepoint.run();
    try {
      const value = w.apply();
      this.st.release.run();
      return { ok: true, value };
    } catch (error) {
      if (!this.db.isTransaction) throw error;
      this.st.rollbackTo.run();
      this.st.release.run();
      return { ok: false, error };
    }
  }

  createSpace(s: SpaceRecord): Promise<boolean> {
    // INSERT OR IGNORE skips a clash on the id (primary key) or the code (unique) alike.
    return this.enqueue(true, () => {
      const r = this.st.insertSpace.run(s.id, s.code, s.name, s.status, s.capacity, s.ttlMs, s.stewardTokenHash, s.createdAt, s.closedAt);
      return Number(r.changes) === 1;
    });
  }

  async getSpaceByCode(code: string): Promise<SpaceRecord | null> {
    this.check();
    const r = this.st.spaceByCode.get(code) as Row | undefined;
    return r ? spaceFrom(r) : null;
  }

  async getSpace(id: string): Promise<SpaceRecord | null> {
    this.check();
    const r = this.st.spaceById.get(id) as Row | undefined;
    return r ? spaceFrom(r) : null;
  }

  async listSpaces(): Promise<SpaceRecord[]> {
    this.check();
    return (this.st.listSpaces.all() as Row[]).map(spaceFrom);
  }

  closeSpace(id: string, at: number): Promise<void> {
    return this.enqueue(true, () => {
      this.st.closeSpace.run(at, id);
    });
  }

  updateStewardTokenHash(id: string, hash: string): Promise<void> {
    return this.enqueue(true, () => {
      this.st.stewardHash.run(hash, id);
    });
  }

  createParticipant(p: ParticipantRecord): Promise<void> {
    const l = p.latest;
    return this.enqueue(true, () => {
      this.st.insertParticipant.run(p.id, p.spaceId, p.tokenHash, p.joinedAt, p.lastSeq, l?.valence ?? null, l?.arousal ?? null, l?.confidence ?? null, l?.source ?? null, l?.at ?? null);
    });
  }

  async getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null> {
    this.check();
    const r = this.st.participantByToken.get(tokenHash) as Row | undefined;
    return r ? participantFrom(r) : null;
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    this.check();
    return (this.st.activeParticipants.all(spaceId, since) as Row[]).map(participantFrom);
  }

  async countParticipants(spaceId: string): Promise<number> {
    this.check();
    return Number((this.st.countParticipants.get(spaceId) as Row).n);
  }

  appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    return this.enqueue(false, () => {
      for (const i of inputs) this.writeInput(i);
    });
  }

  private writeInput(i: InputRecord): void {
    const r = this.st.participantLastSeq.get(i.participantId) as Row | undefined;
    if (!r || String(r.space_id) !== i.spaceId) throw new Error(`unknown participant ${i.participantId}`);
    if (i.seq <= Number(r.last_seq)) return;
    if (i.n !== undefined) {
      checkEventNumber(i.n);
      // Inputs and events share one numbering; the unique index covers inputs, this covers events.
      if (this.st.eventHasN.get(i.spaceId, i.n)) throw new Error(`duplicate event number ${i.n} in space ${i.spaceId}`);
    }
    const a = i.affect;
    this.st.insertInput.run(i.spaceId, i.participantId, i.seq, a.valence, a.arousal, a.confidence, a.source, a.at, i.exposed ? 1 : 0, i.shown?.valence ?? null, i.shown?.arousal ?? null, i.n ?? null);
    this.st.updateLatest.run(i.seq, a.valence, a.arousal, a.confidence, a.source, a.at, i.participantId);
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    this.check();
    return (this.st.listInputs.all(spaceId, from, to, limit) as Row[]).map(inputFrom);
  }

  async listInputsByN(spaceId: string, fromN: number, limit: number): Promise<(InputRecord & { readonly n: number })[]> {
    this.check();
    return (this.st.listInputsByN.all(spaceId, fromN, limit) as Row[]).map((r) => inputFrom(r) as InputRecord & { readonly n: number });
  }

  clearLatest(participantId: string): Promise<void> {
    return this.enqueue(true, () => {
      this.st.clearLatest.run(participantId);
    });
  }

  appendEvents(events: readonly SpaceEventRecord[]): Promise<void> {
    return this.enqueue(events.length <= 1, () => {
      for (const e of events) {
        checkEventNumber(e.n);
        // The primary key rejects a duplicate among events; this rejects one held by an input.
        if (this.st.inputHasN.get(e.spaceId, e.n)) throw new Error(`duplicate event number ${e.n} in space ${e.spaceId}`);
        this.st.insertEvent.run(e.spaceId, e.n, e.at, e.kind, e.participantId, e.body);
      }
    });
  }

  async listEvents(spaceId: string, fromN: number, limit: number): Promise<SpaceEventRecord[]> {
    this.check();
    return (this.st.listEvents.all(spaceId, fromN, limit) as Row[]).map(eventFrom);
  }

  async lastEventN(spaceId: string): Promise<number> {
    this.check();
    return Number((this.st.lastEventN.get(spaceId, spaceId) as Row).n);
  }

  appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    return this.enqueue(points.length <= 1, () => {
      for (const p of points) this.st.insertPulse.run(p.spaceId, p.at, p.count, p.valence, p.arousal, p.spreadValence, p.spreadArousal, ...p.quadrants);
    });
  }

  async listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    this.check();
    return (this.st.listPulses.all(spaceId, from, to, limit) as Row[]).map((r) => ({
      spaceId: String(r.space_id),
      at: Number(r.at),
      count: Number(r.count),
      valence: Number(r.v),
      arousal: Number(r.a),
      spreadValence: Number(r.sv),
      spreadArousal: Number(r.sa),
      quadrants: [Number(r.q0), Number(r.q1), Number(r.q2), Number(r.q3)] as const,
    }));
  }

  /** Commits pending writes, then refuses everything. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}
