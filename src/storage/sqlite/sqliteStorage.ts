/**
 * SQLite Storage (embedded default), on Node's built-in `node:sqlite`.
 *
 * Inputs are group-committed: every `appendInputs` call made in the same turn of the event
 * loop joins one transaction, and each call's promise resolves only after that transaction's
 * COMMIT returned — with `synchronous = FULL` in WAL mode, that is when it is durable (SPEC S3).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Affect, AffectSource } from '../../core/affect.ts';
import type { InputRecord, ParticipantRecord, PulsePoint, SpaceRecord, Storage } from '../port.ts';

const SCHEMA = `
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

/** Every statement the adapter runs, prepared once. */
function prepareStatements(db: DatabaseSync) {
  return {
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
    insertInput: db.prepare('INSERT OR IGNORE INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    updateLatest: db.prepare('UPDATE participants SET last_seq = ?, v = ?, a = ?, c = ?, src = ?, at = ? WHERE id = ?'),
    listInputs: db.prepare('SELECT * FROM inputs WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
    clearLatest: db.prepare('UPDATE participants SET v = NULL, a = NULL, c = NULL, src = NULL, at = NULL WHERE id = ?'),
    insertPulse: db.prepare('INSERT INTO pulse_points (space_id, at, count, v, a, sv, sa, q0, q1, q2, q3) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    listPulses: db.prepare('SELECT * FROM pulse_points WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
  };
}

interface Pending {
  readonly inputs: readonly InputRecord[];
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/** Storage over one SQLite database handle (see openDatabase.ts). */
export class SqliteStorage implements Storage {
  private readonly db: DatabaseSync;
  private readonly st: ReturnType<typeof prepareStatements>;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Number of group commits made (for tests and metrics). */
  commits = 0;

  constructor(db: DatabaseSync) {
    this.db = db;
    db.exec(SCHEMA);
    // Migration: databases from before the contagion fields gain the two nullable columns.
    const cols = new Set((db.prepare('PRAGMA table_info(inputs)').all() as Row[]).map((c) => String(c.name)));
    if (!cols.has('shown_v')) db.exec('ALTER TABLE inputs ADD COLUMN shown_v REAL; ALTER TABLE inputs ADD COLUMN shown_a REAL;');
    this.st = prepareStatements(db);
  }

  private check(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  async createSpace(s: SpaceRecord): Promise<boolean> {
    this.check();
    // INSERT OR IGNORE skips a clash on the id (primary key) or the code (unique) alike.
    const r = this.st.insertSpace.run(s.id, s.code, s.name, s.status, s.capacity, s.ttlMs, s.stewardTokenHash, s.createdAt, s.closedAt);
    return Number(r.changes) === 1;
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

  async closeSpace(id: string, at: number): Promise<void> {
    this.check();
    this.st.closeSpace.run(at, id);
  }

  async updateStewardTokenHash(id: string, hash: string): Promise<void> {
    this.check();
    this.st.stewardHash.run(hash, id);
  }

  async createParticipant(p: ParticipantRecord): Promise<void> {
    this.check();
    const l = p.latest;
    this.st.insertParticipant.run(p.id, p.spaceId, p.tokenHash, p.joinedAt, p.lastSeq, l?.valence ?? null, l?.arousal ?? null, l?.confidence ?? null, l?.source ?? null, l?.at ?? null);
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
    this.check();
    return new Promise((resolve, reject) => {
      this.pending.push({ inputs, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending append in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const failed = new Set<Pending>();
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const b of batch) {
        try {
          this.db.exec('SAVEPOINT one');
          for (const i of b.inputs) this.writeInput(i);
          this.db.exec('RELEASE one');
        } catch (e) {
          this.db.exec('ROLLBACK TO one');
          this.db.exec('RELEASE one');
          failed.add(b);
          b.reject(e);
        }
      }
      this.db.exec('COMMIT');
      this.commits++;
    } catch (e) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        /* already rolled back */
      }
      for (const b of batch) if (!failed.has(b)) b.reject(e);
      return;
    }
    for (const b of batch) if (!failed.has(b)) b.resolve();
  }

  private writeInput(i: InputRecord): void {
    const r = this.st.participantLastSeq.get(i.participantId) as Row | undefined;
    if (!r || String(r.space_id) !== i.spaceId) throw new Error(`unknown participant ${i.participantId}`);
    if (i.seq <= Number(r.last_seq)) return;
    const a = i.affect;
    this.st.insertInput.run(i.spaceId, i.participantId, i.seq, a.valence, a.arousal, a.confidence, a.source, a.at, i.exposed ? 1 : 0, i.shown?.valence ?? null, i.shown?.arousal ?? null);
    this.st.updateLatest.run(i.seq, a.valence, a.arousal, a.confidence, a.source, a.at, i.participantId);
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    this.check();
    return (this.st.listInputs.all(spaceId, from, to, limit) as Row[]).map((r) => ({
      spaceId: String(r.space_id),
      participantId: String(r.participant_id),
      seq: Number(r.seq),
      affect: affectFrom(r) as Affect,
      exposed: Number(r.exposed) === 1,
      shown: r.shown_v === null || r.shown_v === undefined ? null : { valence: Number(r.shown_v), arousal: Number(r.shown_a) },
    }));
  }

  async clearLatest(participantId: string): Promise<void> {
    this.check();
    this.st.clearLatest.run(participantId);
  }

  async appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    this.check();
    this.db.exec('BEGIN');
    try {
      for (const p of points) this.st.insertPulse.run(p.spaceId, p.at, p.count, p.valence, p.arousal, p.spreadValence, p.spreadArousal, ...p.quadrants);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
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

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
  }
}
