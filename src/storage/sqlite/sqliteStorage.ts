/**
 * SQLite Storage (embedded default), on Node's built-in `node:sqlite`.
 *
 * Every write is group-committed (SPEC S3): each write call joins one queue, and the calls of a
 * turn of the event loop are sent together, as one group, to the writer (SqliteWriter), which
 * applies them in exactly call order in ONE transaction — a failing call rolls back alone to its
 * savepoint — and commits. The writer runs on its own thread with its own connection to the file
 * (sqliteWriterThread.ts), so the COMMIT and its fsync (`synchronous = FULL`, WAL) never block
 * the event loop. Each call's promise settles only once its group's COMMIT returned, so only
 * then is it durable; groups commit one after another in the order they were sent, so what is
 * durable is always a prefix of what was asked. While a group commits, the next one collects
 * every call made meanwhile (at most `maxGroupsInFlight` groups are committing at once), and
 * groups start at least `minCommitIntervalMs` apart, so a burst shares its COMMITs' fsyncs.
 * WAL checkpoints run on a third thread (sqliteCheckpointer.ts), poked after each commit (at most
 * one pass a second), so no COMMIT waits for one; the WAL stays bounded (`walLimitBytes`).
 *
 * Reads run on the main connection, outside any transaction: each sees the latest committed
 * group (WAL readers never wait for the writer) and nothing uncommitted. A call resolved is
 * therefore visible to every read made after it; a read may see a group a moment before its
 * promises settle (it is durable by then): durable, then visible.
 *
 * The schema is versioned with `PRAGMA user_version` (SPEC S9); `MIGRATIONS[v]` takes a database
 * from version v to v + 1, and opening runs the missing steps in one savepoint, on the main
 * connection, before the writer thread starts.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Affect, AffectSource } from '../../core/affect.ts';
import { type DeliveryRow, type EventRow, type GroupOutcome, type InputRow, type PulseRow, SqliteWriter, type SqliteWriterOptions, type WriteCall } from './sqliteWriter.ts';
import { rmSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { newParticipantKey, participantKeyObject, seal, unseal } from '../sealing.ts';
import { attachKeyStore, defaultKeyStorePath } from './openDatabase.ts';
import type { ConsentRecord, FeedSettingKind, FeedSettingRecord, InputRecord, ParticipantRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage, StoredCounts, StoryRecord, StorySettingsRecord, WebhookDeliveryRecord, WebhookRecord } from '../port.ts';
import { consentFrom, eventFrom, feedSettingFrom, privacyReleaseFrom, pulsePointFrom, type Row, storyFrom, webhookDeliveryFrom, webhookFrom } from '../rows.ts';
import { DEFAULT_WAL_LIMIT_BYTES, SqliteCheckpointer } from './sqliteCheckpointer.ts';
import { CommitPacer, type CommitTimer, DEFAULT_MIN_COMMIT_INTERVAL_MS } from '../commitInterval.ts';
import { type GroupCommitter, SqliteWriterThread } from './sqliteWriterThread.ts';

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
  // 2 → 3: a heart input's heart rate (W5a), which the room's heart synchrony and replay need.
  (db) => {
    if (!columnsOf(db, 'inputs').has('heart_bpm')) db.exec('ALTER TABLE inputs ADD COLUMN heart_bpm REAL');
  },
  // 3 → 4: groups (R6, S10): a space's declared group names (JSON array, NULL for none), the
  // group a participant chose (NULL for none), and the spaces a space's steward agreed to link with.
  (db) => {
    if (!columnsOf(db, 'spaces').has('groups')) db.exec('ALTER TABLE spaces ADD COLUMN groups TEXT');
    if (!columnsOf(db, 'participants').has('grp')) db.exec('ALTER TABLE participants ADD COLUMN grp TEXT');
    db.exec(`
CREATE TABLE IF NOT EXISTS space_links (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  other_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (space_id, other_id)
) WITHOUT ROWID;
`);
  },
  // 4 → 5: stories (SPEC ST13): a participant's story, deleted outright when withdrawn (so the
  // text is gone from the table; SQLite's secure_delete, set by openDatabase, overwrites the
  // freed page content too), and each space's story settings.
  (db) => {
    db.exec(`
CREATE TABLE IF NOT EXISTS stories (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  participant_id TEXT NOT NULL REFERENCES participants(id),
  text TEXT NOT NULL,
  name TEXT,
  v REAL NOT NULL, a REAL NOT NULL, c REAL NOT NULL,
  flags TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting','shown','declined','hidden')),
  reason TEXT,
  created_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX IF NOT EXISTS stories_space ON stories(space_id, created_at);
CREATE TABLE IF NOT EXISTS story_settings (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  enabled INTEGER NOT NULL,
  moderation TEXT NOT NULL CHECK (moderation IN ('pre','post')),
  at INTEGER NOT NULL
) WITHOUT ROWID;
`);
  },
  // 5 → 6: governance (S12): a space's council, policies and feedback in force, as one JSON text.
  (db) => {
    db.exec(`
CREATE TABLE IF NOT EXISTS governance (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  snapshot TEXT NOT NULL
) WITHOUT ROWID;
`);
  },
  // 6 → 7: feed settings (S13): a space's OSC targets and frame-ancestors allow-list (a JSON
  // array per kind), its webhook subscriptions (no secrets: the server derives them from its own
  // key) and the webhooks' delivery log, trimmed per space on append.
  (db) => {
    db.exec(`
CREATE TABLE IF NOT EXISTS feed_settings (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  kind TEXT NOT NULL,
  vals TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (space_id, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhooks (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  space_id TEXT NOT NULL,
  delivery TEXT NOT NULL,
  webhook TEXT NOT NULL,
  event TEXT NOT NULL,
  type TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  outcome TEXT NOT NULL,
  error TEXT,
  next_attempt_at INTEGER
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_space ON webhook_deliveries(space_id);
`);
  },
  // 7 → 8: privacy (S15): each space's secret noise seed, kept apart from the spaces row.
  (db) => {
    db.exec(`
CREATE TABLE IF NOT EXISTS space_secrets (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id),
  noise_seed TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS privacy_releases (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  what TEXT NOT NULL,
  params TEXT NOT NULL,
  rho_micro INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (space_id, n)
) WITHOUT ROWID;
`);
  },
  // 8 → 9: erasure and consent (S16): per-participant sealing keys, sealed inputs and latest
  // points (the plain columns then hold placeholders), consent records.
  (db) => {
    if (!columnsOf(db, 'inputs').has('sealed')) db.exec('ALTER TABLE inputs ADD COLUMN sealed TEXT');
    if (!columnsOf(db, 'participants').has('sealed')) db.exec('ALTER TABLE participants ADD COLUMN sealed TEXT');
    db.exec(`
CREATE TABLE IF NOT EXISTS main.participant_keys (
  participant_id TEXT PRIMARY KEY,
  key BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS consents (
  participant_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  hash TEXT NOT NULL,
  purposes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consents_participant ON consents(participant_id, at);
`);
  },
  // 9 → 10: retention (S17, V3): how long a space's raw data is kept after it closes (NULL: the
  // server's setting), and when retention deleted it.
  (db) => {
    const cols = columnsOf(db, 'spaces');
    if (!cols.has('retention_ms')) db.exec('ALTER TABLE spaces ADD COLUMN retention_ms INTEGER');
    if (!cols.has('purged_at')) db.exec('ALTER TABLE spaces ADD COLUMN purged_at INTEGER');
  },
  // 10 → 11: the sealing keys leave the database file for the key store (S18, attached as
  // `keys`; the constructor has already copied them there in a commit of their own, so a crash
  // between the two files' commits cannot lose a key).
  (db) => {
    if (!hasMainTable(db, 'participant_keys')) return;
    db.exec('INSERT OR IGNORE INTO keys.participant_keys (participant_id, key) SELECT participant_id, key FROM main.participant_keys');
    db.exec('DROP TABLE main.participant_keys');
  },
  // 11 → 12: participants indexed by space alone, not by (space, latest time): every durable
  // input moves a participant's latest time, and with it their entry of that index — two more
  // B-tree writes per input, ≈ 15 % of the writer's CPU (bench:durable). Only a host's start
  // asks for a space's recently active participants (listActiveParticipants), which now reads
  // the space's participants and keeps the recent ones.
  (db) => {
    db.exec('DROP INDEX IF EXISTS participants_space_at; CREATE INDEX IF NOT EXISTS participants_space ON participants(space_id);');
  },
];

/** Whether the database file itself (schema main) has a table. */
function hasMainTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 AS x FROM main.sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/**
 * Opens the key store (S18) on the main connection — unless the caller attached one — and makes
 * sure it can serve this database: keys still in the database file (schema 9–10) are copied
 * there first, in their own commit; a new, empty key store beside a database whose inputs are
 * sealed is refused (its keys are elsewhere, and with this store nothing could be opened).
 */
function openKeyStore(db: DatabaseSync, keysPath: string): void {
  const attached = (db.prepare('PRAGMA database_list').all() as Row[]).some((r) => r.name === 'keys');
  const existed = attached || attachKeyStore(db, keysPath);
  const version = Number((db.prepare('PRAGMA main.user_version').get() as Row).user_version);
  if (hasMainTable(db, 'participant_keys')) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('INSERT OR IGNORE INTO keys.participant_keys (participant_id, key) SELECT participant_id, key FROM main.participant_keys');
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  } else if (!existed && version >= 11) {
    const sealed = db.prepare('SELECT 1 AS x FROM inputs WHERE sealed IS NOT NULL UNION ALL SELECT 1 FROM participants WHERE sealed IS NOT NULL LIMIT 1').get();
    if (sealed) {
      const shown = keysPath;
      db.exec('DETACH DATABASE keys');
      rmSync(shown, { force: true });
      throw new Error(`the key store ${shown} is new, but this database holds inputs sealed under keys kept in another key store: start with --keys PATH of the key store that belongs to it (PRIVACY.md, "Keys and backups")`);
    }
  }
}

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
    ...(typeof r.groups === 'string' ? { groups: JSON.parse(r.groups) as string[] } : {}),
    ...(r.retention_ms === null || r.retention_ms === undefined ? {} : { retentionMs: Number(r.retention_ms) }),
    purgedAt: r.purged_at === null || r.purged_at === undefined ? null : Number(r.purged_at),
  };
}

/** What a sealed input holds (S16). */
interface SealedInput {
  readonly v: number;
  readonly a: number;
  readonly c: number;
  readonly src: AffectSource;
  readonly sv: number | null;
  readonly sa: number | null;
  readonly hb: number | null;
}

/** Opens sealed values: the participant's key, or null once erased (or never sealed). */
type Opener = (participantId: string, sealed: string) => SealedInput | null;

function affectFrom(r: Row): Affect | null {
  if (r.v === null || r.v === undefined) return null;
  return { valence: Number(r.v), arousal: Number(r.a), confidence: Number(r.c), source: String(r.src) as AffectSource, at: Number(r.at) };
}

function participantFrom(r: Row, open: Opener): ParticipantRecord {
  const sealed = typeof r.sealed === 'string' ? open(String(r.id), r.sealed) : null;
  const latest = typeof r.sealed === 'string' ? (sealed ? { valence: sealed.v, arousal: sealed.a, confidence: sealed.c, source: sealed.src, at: Number(r.at) } : null) : affectFrom(r);
  return {
    id: String(r.id),
    spaceId: String(r.space_id),
    tokenHash: String(r.token_hash),
    joinedAt: Number(r.joined_at),
    lastSeq: Number(r.last_seq),
    latest,
    ...(typeof r.grp === 'string' ? { group: r.grp } : {}),
  };
}

function inputFrom(r: Row, open: Opener): InputRecord | null {
  if (typeof r.sealed === 'string') {
    const s = open(String(r.participant_id), r.sealed);
    if (!s) return null;
    r = { ...r, v: s.v, a: s.a, c: s.c, src: s.src, shown_v: s.sv, shown_a: s.sv === null ? null : s.sa, heart_bpm: s.hb };
  }
  const base = {
    spaceId: String(r.space_id),
    participantId: String(r.participant_id),
    seq: Number(r.seq),
    affect: affectFrom(r) as Affect,
    exposed: Number(r.exposed) === 1,
    shown: r.shown_v === null || r.shown_v === undefined ? null : { valence: Number(r.shown_v), arousal: Number(r.shown_a) },
  };
  const heart = r.heart_bpm === null || r.heart_bpm === undefined ? base : { ...base, heartBpm: Number(r.heart_bpm) };
  return r.n === null || r.n === undefined ? heart : { ...heart, n: Number(r.n) };
}


/** Every read statement, prepared once on the main connection (writes run in SqliteWriter). */
function prepareReads(db: DatabaseSync) {
  return {
    spaceByCode: db.prepare('SELECT * FROM spaces WHERE code = ?'),
    spaceById: db.prepare('SELECT * FROM spaces WHERE id = ?'),
    listSpaces: db.prepare('SELECT * FROM spaces ORDER BY created_at, id'),
    participantByToken: db.prepare('SELECT * FROM participants WHERE token_hash = ?'),
    activeParticipants: db.prepare('SELECT * FROM participants WHERE space_id = ? AND at IS NOT NULL AND at >= ?'),
    countParticipants: db.prepare('SELECT COUNT(*) AS n FROM participants WHERE space_id = ?'),
    listSpaceLinks: db.prepare('SELECT other_id FROM space_links WHERE space_id = ? ORDER BY at, other_id'),
    getGovernance: db.prepare('SELECT snapshot FROM governance WHERE space_id = ?'),
    listInputs: db.prepare('SELECT * FROM inputs WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
    listInputsByN: db.prepare('SELECT * FROM inputs WHERE space_id = ? AND n >= ? ORDER BY n LIMIT ?'),
    listEvents: db.prepare('SELECT * FROM events WHERE space_id = ? AND n >= ? ORDER BY n LIMIT ?'),
    lastEventN: db.prepare(
      'SELECT max(coalesce((SELECT max(n) FROM events WHERE space_id = ?), 0), coalesce((SELECT max(n) FROM inputs WHERE space_id = ? AND n IS NOT NULL), 0)) AS n',
    ),
    listStories: db.prepare('SELECT * FROM stories WHERE space_id = ? ORDER BY created_at, id'),
    storySettings: db.prepare('SELECT enabled, moderation FROM story_settings WHERE space_id = ?'),
    listReleases: db.prepare('SELECT * FROM privacy_releases WHERE space_id = ? ORDER BY n'),
    spaceSecret: db.prepare('SELECT noise_seed FROM space_secrets WHERE space_id = ?'),
    participantIdsOf: db.prepare('SELECT id FROM participants WHERE space_id = ?'),
    countParticipantsOf: db.prepare('SELECT COUNT(*) AS n FROM participants WHERE space_id = ?'),
    countInputs: db.prepare('SELECT COUNT(*) AS n, COUNT(sealed) AS sealed FROM inputs WHERE space_id = ?'),
    countEvents: db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(kind = 'erased'), 0) AS erased FROM events WHERE space_id = ?"),
    countConsents: db.prepare('SELECT COUNT(*) AS n FROM consents WHERE participant_id IN (SELECT id FROM participants WHERE space_id = ?)'),
    countStories: db.prepare('SELECT COUNT(*) AS n FROM stories WHERE space_id = ?'),
    participantKey: db.prepare('SELECT key FROM keys.participant_keys WHERE participant_id = ?'),
    participantInputs: db.prepare('SELECT * FROM inputs WHERE participant_id = ? ORDER BY seq'),
    listConsents: db.prepare('SELECT * FROM consents WHERE participant_id = ? ORDER BY at, rowid'),
    listPulses: db.prepare('SELECT * FROM pulse_points WHERE space_id = ? AND at >= ? AND at < ? ORDER BY at, rowid LIMIT ?'),
    listFeedSettings: db.prepare('SELECT * FROM feed_settings ORDER BY space_id, kind'),
    listWebhooks: db.prepare('SELECT * FROM webhooks ORDER BY created_at, rowid'),
    listDeliveries: db.prepare('SELECT * FROM (SELECT rowid AS r, * FROM webhook_deliveries WHERE space_id = ? ORDER BY rowid DESC LIMIT ?) ORDER BY r'),
  };
}

/** Commits on the calling thread: for a database with no file a second connection could open. */
class InThreadCommitter implements GroupCommitter {
  readonly #writer: SqliteWriter;
  #closed = false;

  constructor(db: DatabaseSync, options: SqliteWriterOptions) {
    this.#writer = new SqliteWriter(db, options);
  }

  submit(calls: readonly WriteCall[]): Promise<GroupOutcome> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    return Promise.resolve(this.#writer.commit(calls));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** One queued write call: its plain-data form and how to settle its promise. */
interface Write {
  readonly call: WriteCall;
  readonly resolve: (value: never) => void;
  readonly reject: (e: unknown) => void;
}

/** Options of {@link SqliteStorage}. */
export interface SqliteStorageOptions {
  /**
   * How many groups may be committing at once (default 1): while the writer commits those, the
   * next group collects every call made meanwhile. More lets the writer start the next COMMIT
   * without waiting for the main thread, at the price of smaller groups (more fsyncs).
   */
  readonly maxGroupsInFlight?: number;
  /**
   * Where a file's groups commit: on the writer thread (default) or on the calling thread —
   * the COMMIT and its fsync then block the event loop, as before the writer thread; kept as the
   * baseline of `npm run bench:durable`.
   */
  readonly commitOn?: 'thread' | 'loop';
  /**
   * The key store (S18): the SQLite file that holds the participants' sealing keys, apart from
   * the database (`attune serve --keys`). Default: beside the database, `NAME.keys.db`
   * (`:memory:` for an in-memory database).
   */
  readonly keysPath?: string;
  /**
   * Write runs of inputs set-based (default true; see SqliteWriter). false: every input with its
   * own statements and savepoint, as before — the baseline of `npm run bench:durable`.
   */
  readonly setBased?: boolean;
  /**
   * Who runs the WAL checkpoints of a file's database and key store: a checkpointer thread of
   * their own, off the commit path (default; sqliteCheckpointer.ts), or the writer thread inside
   * the COMMIT that takes the WAL past 1,000 pages (SQLite's `wal_autocheckpoint`, as before;
   * kept as the baseline of `npm run bench:durable`, target `sqlite-ckpt-commit`).
   */
  readonly checkpoints?: 'thread' | 'commit';
  /** With the checkpointer thread: past this many WAL bytes the writer runs a RESTART checkpoint between two groups (default 64 MiB). */
  readonly walLimitBytes?: number;
  /** With the checkpointer thread: the least time between two passes' starts, ms (default 1,000; 0: one after every group, as tests use). */
  readonly checkpointIntervalMs?: number;
  /**
   * The least time between two groups' starts, ms (default {@link DEFAULT_MIN_COMMIT_INTERVAL_MS} for a file,
   * 0 — none — for `:memory:`). A
   * group due sooner after the previous one was sent waits out the rest, gathering every call made
   * meanwhile; one due later — an idle writer, or after a COMMIT that took longer — is sent after
   * the current turn, as with none. See the constant (commitInterval.ts) for why.
   */
  readonly minCommitIntervalMs?: number;
  /** The clock and timer of that wait (default: performance.now and setTimeout); tests pass a ManualScheduler. */
  readonly timer?: CommitTimer;
}

export { DEFAULT_MIN_COMMIT_INTERVAL_MS };

/** Storage over one SQLite database (see openDatabase.ts); writes are committed off the event loop. */
export class SqliteStorage implements Storage {
  private readonly st: ReturnType<typeof prepareReads>;
  private readonly committer: GroupCommitter;
  /** The WAL checkpointer thread (a file's database with `checkpoints: 'thread'`), else null. */
  readonly checkpointer: SqliteCheckpointer | null = null;
  private readonly maxInFlight: number;
  private pending: Write[] = [];
  private inFlight = 0;
  /** When the next group starts (the commit interval). */
  private readonly pacer: CommitPacer;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Undoes what the constructor changed on the main connection. */
  private restore: () => void = () => {};
  /** Number of group commits made (COMMITs that returned; for tests and metrics). */
  commits = 0;
  /** The key store's file (S18). */
  readonly keysPath: string;
  /**
   * Participants' sealing keys (S16) as read or made on this connection, as KeyObjects (the raw
   * bytes are in the key store and, once, in the write that puts them there); null: none
   * (erased, or from before sealing).
   */
  private readonly keys = new Map<string, KeyObject | null>();
  private readonly open: Opener = (participantId, sealed) => {
    const key = this.keyOf(participantId);
    const text = key ? unseal(key, participantId, sealed) : null;
    return text === null ? null : (JSON.parse(text) as SealedInput);
  };

  /**
   * A key for a participant who has none stored and was not erased — one from before sealing, or
   * one whose key's commit in the key store was lost to a crash (two files commit apart): made
   * now and queued ahead of the input it seals, so nothing is stored in the clear from here on.
   */
  private keyFor(participantId: string): KeyObject | null {
    if (this.keys.get(participantId) === null) return null;
    const raw = newParticipantKey();
    const key = participantKeyObject(raw);
    this.keys.set(participantId, key);
    this.enqueue<void>({ op: 'putKey', id: participantId, key: raw }).catch(() => {
      if (this.keys.get(participantId) === key) this.keys.delete(participantId);
    });
    return key;
  }

  private keyOf(participantId: string): KeyObject | null {
    const known = this.keys.get(participantId);
    if (known !== undefined) return known;
    const r = this.st.participantKey.get(participantId) as Row | undefined;
    const key = r ? participantKeyObject(r.key as Uint8Array) : null;
    if (key) this.keys.set(participantId, key);
    return key;
  }

  /**
   * @param db the main connection (from openDatabase); it is migrated here and serves the reads.
   *   The caller keeps owning it. When it is a file, writes go to a writer thread with its own
   *   connection to that file; `:memory:` commits on this thread (there is no file to share).
   */
  constructor(db: DatabaseSync, options: SqliteStorageOptions = {}) {
    this.maxInFlight = options.maxGroupsInFlight ?? 1;
    if (!Number.isSafeInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError(`maxGroupsInFlight must be a positive integer, got ${this.maxInFlight}`);
    const path = db.location();
    // An in-memory database has no fsync to share: its groups go as soon as they can.
    this.pacer = new CommitPacer(options.minCommitIntervalMs ?? (path === null || path === '' ? 0 : DEFAULT_MIN_COMMIT_INTERVAL_MS), options.timer);
    this.keysPath = options.keysPath ?? defaultKeyStorePath(path ?? ':memory:');
    // A newer file is refused before anything is attached or created beside it.
    const version = Number((db.prepare('PRAGMA main.user_version').get() as Row).user_version);
    if (version > SCHEMA_VERSION) throw new Error(`database schema version ${version} is newer than this attune's (${SCHEMA_VERSION}); upgrade attune`);
    openKeyStore(db, this.keysPath);
    migrate(db);
    this.st = prepareReads(db);
    if (path === null || path === '' || options.commitOn === 'loop') {
      this.committer = new InThreadCommitter(db, { setBased: options.setBased ?? true });
    } else {
      // The main connection now writes only the rare log batch: the WAL checkpoints (their
      // copying and fsync) run off the event loop — on the checkpointer thread, or on the writer
      // thread with `checkpoints: 'commit'`. close() gives the connection its setting back.
      const previous = Number((db.prepare('PRAGMA wal_autocheckpoint').get() as Row).wal_autocheckpoint);
      db.exec('PRAGMA wal_autocheckpoint = 0');
      this.restore = () => {
        if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${previous}`);
      };
      const onThread = (options.checkpoints ?? 'thread') === 'thread';
      const walLimitBytes = options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
      const writer = new SqliteWriterThread(path, this.keysPath, { setBased: options.setBased ?? true, ...(onThread ? { walAutocheckpoint: 0, walSizeLimitBytes: walLimitBytes } : {}) });
      this.committer = writer;
      // A checkpointer that dies costs WAL size, never data: the writer checkpoints on commit again.
      if (onThread) this.checkpointer = new SqliteCheckpointer(path, this.keysPath, { walLimitBytes, ...(options.checkpointIntervalMs === undefined ? {} : { intervalMs: options.checkpointIntervalMs }), restart: (schemas) => writer.restartWal(schemas), onFailure: () => writer.checkpointOnCommit(1000) });
    }
  }

  private check(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  /** Queues a write call; it commits, in call order, with the rest of its group. */
  private enqueue<T>(call: WriteCall): Promise<T> {
    if (this.closed) return Promise.reject(new Error('storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ call, resolve: resolve as (value: never) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.inFlight >= this.maxInFlight) return;
    this.pacer.schedule(() => this.flush(), this.closed);
  }

  /**
   * Sends every pending write call as one group (after the current turn: so a turn's calls are
   * never split), unless the writer is still busy with `maxInFlight` groups — then they wait,
   * and more join them, until a reply frees a slot.
   */
  private flush(): void {
    this.pacer.fired();
    if (this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    this.inFlight++;
    this.pacer.sent();
    let submitted: Promise<GroupOutcome>;
    try {
      submitted = this.committer.submit(group.map((w) => w.call));
    } catch (e) {
      submitted = Promise.reject(e);
    }
    submitted.then(
      (o) => this.settle(group, o),
      (e) => {
        for (const w of group) w.reject(e);
        this.done();
      },
    );
  }

  /** Settles a group's calls from its outcome: resolved only when its COMMIT returned. */
  private settle(group: readonly Write[], o: GroupOutcome): void {
    if (o.committed) {
      this.commits++;
      this.checkpointer?.poke();
    }
    const failed = new Map<number, unknown>(o.failures);
    group.forEach((w, k) => {
      if (failed.has(k)) w.reject(failed.get(k));
      else if (!o.committed) w.reject(o.groupError);
      else w.resolve(o.values[k] as never);
    });
    this.done();
  }

  private done(): void {
    this.inFlight--;
    this.schedule();
    if (this.inFlight === 0 && this.pending.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of waiters) f();
    }
  }

  createSpace(s: SpaceRecord): Promise<boolean> {
    return this.enqueue({ op: 'createSpace', row: [s.id, s.code, s.name, s.status, s.capacity, s.ttlMs, s.stewardTokenHash, s.createdAt, s.closedAt, s.groups?.length ? JSON.stringify(s.groups) : null, s.retentionMs ?? null] });
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
    return this.enqueue({ op: 'closeSpace', at, id });
  }

  updateStewardTokenHash(id: string, hash: string): Promise<void> {
    return this.enqueue({ op: 'updateStewardTokenHash', id, hash });
  }

  createParticipant(p: ParticipantRecord): Promise<void> {
    const l = p.latest;
    // A second call for an id already known (a clash) carries the same key, so the key stored and
    // the key inputs are sealed with never differ, whichever call wins.
    const known = this.keys.get(p.id);
    const raw = known ? new Uint8Array(known.export()) : newParticipantKey();
    const key = known ?? participantKeyObject(raw);
    this.keys.set(p.id, key);
    const done = this.enqueue<void>({
      op: 'createParticipant',
      row: [p.id, p.spaceId, p.tokenHash, p.joinedAt, p.lastSeq, l?.valence ?? null, l?.arousal ?? null, l?.confidence ?? null, l?.source ?? null, l?.at ?? null, p.group ?? null],
      key: raw,
    });
    // A refused participant (a clash) keeps whatever key the store holds for that id.
    done.catch(() => {
      if (!known && this.keys.get(p.id) === key) this.keys.delete(p.id);
    });
    return done;
  }

  async getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null> {
    this.check();
    const r = this.st.participantByToken.get(tokenHash) as Row | undefined;
    return r ? participantFrom(r, this.open) : null;
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    this.check();
    return (this.st.activeParticipants.all(spaceId, since) as Row[]).map((r) => participantFrom(r, this.open));
  }

  async countParticipants(spaceId: string): Promise<number> {
    this.check();
    return Number((this.st.countParticipants.get(spaceId) as Row).n);
  }

  appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    const rows = inputs.map((i): InputRow => {
      const a = i.affect;
      const key = this.keyOf(i.participantId) ?? this.keyFor(i.participantId);
      if (key) {
        // Sealed (S16): the feeling, what was shown and the heart rate only under the participant's key; time and exposure stay plain (queries, contagion).
        const sealed = seal(key, i.participantId, JSON.stringify({ v: a.valence, a: a.arousal, c: a.confidence, src: a.source, sv: i.shown?.valence ?? null, sa: i.shown?.arousal ?? null, hb: i.heartBpm ?? null } satisfies SealedInput));
        return [i.spaceId, i.participantId, i.seq, 0, 0, 0, 'sealed', a.at, i.exposed ? 1 : 0, null, null, i.n ?? null, null, sealed];
      }
      return [i.spaceId, i.participantId, i.seq, a.valence, a.arousal, a.confidence, a.source, a.at, i.exposed ? 1 : 0, i.shown?.valence ?? null, i.shown?.arousal ?? null, i.n ?? null, i.heartBpm ?? null, null];
    });
    return this.enqueue({ op: 'appendInputs', rows });
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    this.check();
    return (this.st.listInputs.all(spaceId, from, to, limit) as Row[]).flatMap((r) => inputFrom(r, this.open) ?? []);
  }

  async listInputsByN(spaceId: string, fromN: number, limit: number): Promise<(InputRecord & { readonly n: number })[]> {
    this.check();
    return (this.st.listInputsByN.all(spaceId, fromN, limit) as Row[]).flatMap((r) => (inputFrom(r, this.open) as (InputRecord & { readonly n: number }) | null) ?? []);
  }

  clearLatest(participantId: string): Promise<void> {
    return this.enqueue({ op: 'clearLatest', id: participantId });
  }

  setParticipantGroup(participantId: string, group: string | null): Promise<void> {
    return this.enqueue({ op: 'setParticipantGroup', id: participantId, group });
  }

  setSpaceLink(spaceId: string, otherId: string, agree: boolean, at: number): Promise<void> {
    return this.enqueue({ op: 'setSpaceLink', spaceId, otherId, agree, at });
  }

  putGovernance(spaceId: string, snapshot: string): Promise<void> {
    return this.enqueue({ op: 'putGovernance', spaceId, snapshot });
  }

  async getGovernance(spaceId: string): Promise<string | null> {
    this.check();
    const r = this.st.getGovernance.get(spaceId) as Row | undefined;
    return r ? String(r.snapshot) : null;
  }

  async listSpaceLinks(spaceId: string): Promise<string[]> {
    this.check();
    return (this.st.listSpaceLinks.all(spaceId) as Row[]).map((r) => String(r.other_id));
  }

  appendEvents(events: readonly SpaceEventRecord[]): Promise<void> {
    return this.enqueue({ op: 'appendEvents', rows: events.map((e): EventRow => [e.spaceId, e.n, e.at, e.kind, e.participantId, e.body]) });
  }

  async listEvents(spaceId: string, fromN: number, limit: number): Promise<SpaceEventRecord[]> {
    this.check();
    return (this.st.listEvents.all(spaceId, fromN, limit) as Row[]).map(eventFrom);
  }

  async lastEventN(spaceId: string): Promise<number> {
    this.check();
    return Number((this.st.lastEventN.get(spaceId, spaceId) as Row).n);
  }

  async eraseParticipant(participantId: string): Promise<{ readonly inputs: number }> {
    // Forget the key here at once: nothing read from now on opens their inputs.
    this.keys.set(participantId, null);
    return this.enqueue<{ inputs: number }>({ op: 'eraseParticipant', id: participantId });
  }

  async storedCounts(spaceId: string): Promise<StoredCounts> {
    this.check();
    if (!this.st.spaceById.get(spaceId)) throw new Error(`unknown space ${spaceId}`);
    const inputs = this.st.countInputs.get(spaceId) as Row;
    const events = this.st.countEvents.get(spaceId) as Row;
    return {
      participants: Number((this.st.countParticipantsOf.get(spaceId) as Row).n),
      inputs: Number(inputs.n),
      sealedInputs: Number(inputs.sealed),
      erased: Number(events.erased),
      consents: Number((this.st.countConsents.get(spaceId) as Row).n),
      stories: Number((this.st.countStories.get(spaceId) as Row).n),
      events: Number(events.n),
    };
  }

  purgeSpace(spaceId: string, at: number): Promise<StoredCounts> {
    // Forget the space's keys here at once, like an erasure: nothing read from now on opens them.
    for (const r of this.st.participantIdsOf.all(spaceId) as Row[]) this.keys.set(String(r.id), null);
    return this.enqueue<StoredCounts>({ op: 'purgeSpace', spaceId, at });
  }

  async listParticipantInputs(participantId: string): Promise<InputRecord[]> {
    this.check();
    return (this.st.participantInputs.all(participantId) as Row[]).flatMap((r) => inputFrom(r, this.open) ?? []);
  }

  recordConsent(c: ConsentRecord): Promise<void> {
    return this.enqueue({ op: 'recordConsent', row: [c.participantId, c.at, c.hash, JSON.stringify(c.purposes)] });
  }

  async listConsents(participantId: string): Promise<ConsentRecord[]> {
    this.check();
    return (this.st.listConsents.all(participantId) as Row[]).map(consentFrom);
  }

  setSpaceSecret(spaceId: string, noiseSeed: string): Promise<void> {
    return this.enqueue({ op: 'setSpaceSecret', spaceId, noiseSeed });
  }

  async getSpaceSecret(spaceId: string): Promise<string | null> {
    this.check();
    const r = this.st.spaceSecret.get(spaceId) as Row | undefined;
    return r ? String(r.noise_seed) : null;
  }

  appendPrivacyRelease(r: PrivacyReleaseRecord): Promise<void> {
    return this.enqueue({ op: 'appendPrivacyRelease', row: [r.spaceId, r.n, r.at, r.what, r.params, r.rhoMicro, r.body] });
  }

  async listPrivacyReleases(spaceId: string): Promise<PrivacyReleaseRecord[]> {
    this.check();
    return (this.st.listReleases.all(spaceId) as Row[]).map(privacyReleaseFrom);
  }

  appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    return this.enqueue({
      op: 'appendPulsePoints',
      rows: points.map((p): PulseRow => [p.spaceId, p.at, p.count, p.valence, p.arousal, p.spreadValence, p.spreadArousal, ...p.quadrants]),
    });
  }

  async listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    this.check();
    return (this.st.listPulses.all(spaceId, from, to, limit) as Row[]).map(pulsePointFrom);
  }

  createStory(st: StoryRecord): Promise<void> {
    return this.enqueue({ op: 'createStory', row: [st.id, st.spaceId, st.participantId, st.text, st.name, st.valence, st.arousal, st.confidence, JSON.stringify(st.flags), st.status, st.reason, st.createdAt, st.decidedAt] });
  }

  setStoryStatus(id: string, status: StoryRecord['status'], reason: string | null, at: number): Promise<void> {
    return this.enqueue({ op: 'setStoryStatus', id, status, reason, at });
  }

  eraseStory(id: string): Promise<void> {
    return this.enqueue({ op: 'eraseStory', id });
  }

  async listStories(spaceId: string): Promise<StoryRecord[]> {
    this.check();
    return (this.st.listStories.all(spaceId) as Row[]).map(storyFrom);
  }

  setStorySettings(spaceId: string, settings: StorySettingsRecord, at: number): Promise<void> {
    return this.enqueue({ op: 'setStorySettings', spaceId, enabled: settings.enabled, moderation: settings.moderation, at });
  }

  async getStorySettings(spaceId: string): Promise<StorySettingsRecord | null> {
    this.check();
    const r = this.st.storySettings.get(spaceId) as Row | undefined;
    return r ? { enabled: Number(r.enabled) === 1, moderation: r.moderation === 'post' ? 'post' : 'pre' } : null;
  }

  setFeedSetting(spaceId: string, kind: FeedSettingKind, values: readonly string[], at: number): Promise<void> {
    return this.enqueue({ op: 'setFeedSetting', spaceId, kind, values: values.length ? JSON.stringify(values) : null, at });
  }

  async listFeedSettings(): Promise<FeedSettingRecord[]> {
    this.check();
    return (this.st.listFeedSettings.all() as Row[]).map(feedSettingFrom);
  }

  addWebhook(w: WebhookRecord): Promise<void> {
    return this.enqueue({ op: 'addWebhook', row: [w.id, w.spaceId, w.url, JSON.stringify(w.events), w.createdAt] });
  }

  removeWebhook(id: string): Promise<void> {
    return this.enqueue({ op: 'removeWebhook', id });
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    this.check();
    return (this.st.listWebhooks.all() as Row[]).map(webhookFrom);
  }

  appendWebhookDeliveries(records: readonly WebhookDeliveryRecord[], keepPerSpace: number): Promise<void> {
    const rows = records.map((d): DeliveryRow => [d.spaceId, d.delivery, d.webhook, d.event, d.type, d.attempt, d.at, d.status, d.outcome, d.error ?? null, d.nextAttemptAt ?? null]);
    return this.enqueue({ op: 'appendWebhookDeliveries', rows, keepPerSpace });
  }

  async listWebhookDeliveries(spaceId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    this.check();
    return (this.st.listDeliveries.all(spaceId, Math.max(0, limit)) as Row[]).map(webhookDeliveryFrom);
  }

  /**
   * Refuses further calls at once, commits every pending write (their promises settle as
   * usual), then stops the writer thread. Idempotent: every call returns the same promise. The
   * main connection stays open (its owner closes it).
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    // What waits for its turn (minCommitIntervalMs) goes now: nothing more can join it.
    if (this.pacer.waiting) this.flush();
    if (this.inFlight > 0 || this.pending.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.checkpointer?.close();
    await this.committer.close();
    this.restore();
  }
}
