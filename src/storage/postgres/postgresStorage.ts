/**
 * PostgreSQL Storage (SPEC S11), for deployments that run several attune processes on one
 * database (`attune serve --db postgres://…`). Same contract as SQLite and memory
 * (test/contracts/storage.contract.ts).
 *
 * Writes are group-committed exactly as on SQLite (S3): each write call joins one queue; the
 * calls of a turn of the event loop go, as one group, to the writer (PostgresWriter) on its own
 * pipelined connection, which applies them in call order in ONE transaction and commits. Each
 * call's promise settles only once its group's COMMIT returned — with the server's default
 * `synchronous_commit = on` the COMMIT returns after its WAL is flushed, so only then is the
 * call durable. The event loop never waits for the database: it only writes the group's bytes
 * and, later, reads the replies. Groups commit one after another (at most one in flight by
 * default): while one commits, the next collects every call made meanwhile, so under load a
 * group grows instead of the queue.
 *
 * If the writer's connection breaks (or a COMMIT fails), the group in flight may or may not have
 * committed, so — as when SQLite's writer thread dies — that group and every later write reject
 * with one clear error; reads go on through the pool. `healthy()` says so (for `/readyz`).
 *
 * Reads run on a second pipelined connection, outside any transaction: each sees the latest
 * committed group and nothing uncommitted (durable, then visible), and reads settle in the order
 * they were made (one connection answers in order). The pool (`pool`) is for others that need
 * transactions of their own on the same database — the transparency log — and for `healthy()`.
 */
import pg from 'pg';
import type { Affect, AffectSource } from '../../core/affect.ts';
import { newParticipantKey, seal, unseal } from '../sealing.ts';
import type { ConsentRecord, FeedSettingKind, FeedSettingRecord, InputRecord, ParticipantRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage, StoredCounts, StoryRecord, StorySettingsRecord, WebhookDeliveryRecord, WebhookRecord } from '../port.ts';
import { consentFrom, eventFrom, feedSettingFrom, privacyReleaseFrom, pulsePointFrom, type Row, storyFrom, webhookDeliveryFrom, webhookFrom } from '../rows.ts';
import { migratePostgres } from './postgresSchema.ts';
import { type PgGroupOutcome, type PgWriteCall, PostgresWriter } from './postgresWriter.ts';


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

function affectFrom(r: Row): Affect | null {
  if (r.v === null || r.v === undefined) return null;
  return { valence: Number(r.v), arousal: Number(r.a), confidence: Number(r.c), source: String(r.src) as AffectSource, at: Number(r.at) };
}

/** What a sealed input or latest point holds (S16; the same JSON as SQLite's). */
interface SealedInput {
  readonly v: number;
  readonly a: number;
  readonly c: number;
  readonly src: AffectSource;
  readonly sv: number | null;
  readonly sa: number | null;
  readonly hb: number | null;
}

/** Opens a row's sealed value with the key joined to it (null: no key — erased — or no seal). */
function opened(r: Row, participantId: string): SealedInput | null {
  if (typeof r.sealed !== 'string' || !(r.key instanceof Uint8Array)) return null;
  const text = unseal(new Uint8Array(r.key), participantId, r.sealed);
  return text === null ? null : (JSON.parse(text) as SealedInput);
}

function participantFrom(r: Row): ParticipantRecord {
  const id = String(r.id);
  const s = typeof r.sealed === 'string' ? opened(r, id) : null;
  return {
    id,
    spaceId: String(r.space_id),
    tokenHash: String(r.token_hash),
    joinedAt: Number(r.joined_at),
    lastSeq: Number(r.last_seq),
    latest: typeof r.sealed === 'string' ? (s ? { valence: s.v, arousal: s.a, confidence: s.c, source: s.src, at: Number(r.at) } : null) : affectFrom(r),
    ...(typeof r.grp === 'string' ? { group: r.grp } : {}),
  };
}

function inputFrom(r: Row): InputRecord | null {
  if (typeof r.sealed === 'string') {
    const s = opened(r, String(r.participant_id));
    if (!s) return null;
    r = { ...r, v: s.v, a: s.a, c: s.c, src: s.src, shown_v: s.sv, shown_a: s.sv === null ? null : s.sa, heart_bpm: s.hb };
  }
  const base = {
    spaceId: String(r.space_id),
    participantId: String(r.participant_id),
    seq: Number(r.seq),
    affect: affectFrom(r) as Affect,
    exposed: r.exposed === true,
    shown: r.shown_v === null || r.shown_v === undefined ? null : { valence: Number(r.shown_v), arousal: Number(r.shown_a) },
  };
  const heart = r.heart_bpm === null || r.heart_bpm === undefined ? base : { ...base, heartBpm: Number(r.heart_bpm) };
  return r.n === null || r.n === undefined ? heart : { ...heart, n: Number(r.n) };
}


/** Input columns with the participant's key joined, to open sealed rows (S16); the FROM clause is {@link INPUTS}. */
const INPUT_COLS = 'i.space_id, i.participant_id, i.seq, i.v, i.a, i.c, i.src, i.at, i.exposed, i.shown_v, i.shown_a, i.n, i.heart_bpm, i.sealed, k.key';
const INPUTS = 'inputs i LEFT JOIN participant_keys k ON k.participant_id = i.participant_id';
/** Participants with their key joined. */
const PARTICIPANTS = 'participants p LEFT JOIN participant_keys k ON k.participant_id = p.id';

/** One queued write call and how to settle its promise. */
interface Write {
  readonly call: PgWriteCall;
  readonly resolve: (value: never) => void;
  readonly reject: (e: unknown) => void;
}

/** Settings of {@link PostgresStorage.open}. */
export interface PostgresStorageOptions {
  /** `postgres://user@host:port/db` (add `?options=-c%20search_path%3DNAME` for a schema). */
  readonly connectionString: string;
  /** Extra libpq-style `options` for every connection (e.g. `-c search_path=NAME`). */
  readonly options?: string;
  /** `application_name` of the connections (suffixed `-writer`, `-reader`), default `attune`. */
  readonly applicationName?: string;
  /** Connections of `pool` (default 2), for the transparency log and health checks. */
  readonly poolSize?: number;
  /**
   * Merge consecutive calls of a hot kind into one statement (default true) — see
   * postgresWriter.ts; off only to measure what it is worth.
   */
  readonly batched?: boolean;
  /** Send a group's statements together on the writer connection (default true); off only to measure it. */
  readonly pipeline?: boolean;
}

/** Storage over one PostgreSQL database (one schema of it). Create with {@link PostgresStorage.open}. */
export class PostgresStorage implements Storage {
  /** A pool on the same database and schema: what the transparency log's PostgresLogStore should use. */
  readonly pool: pg.Pool;
  readonly #client: pg.Client;
  #reader: pg.Client;
  /** How to open a fresh reader when the current one's connection broke. */
  readonly #newReader: () => pg.Client;
  #readerBroken = false;
  readonly #writer: PostgresWriter;
  readonly #pipelined: boolean;
  #pending: Write[] = [];
  /** Participants' sealing keys (S16) known to this node; null: none stored (erased, or from before sealing). */
  readonly #keys = new Map<string, Uint8Array | null>();
  #flushScheduled = false;
  #inFlight = false;
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  #closing: Promise<void> | null = null;
  #failure: Error | null = null;
  /** Number of group commits made (for tests and metrics). */
  commits = 0;

  private constructor(pool: pg.Pool, client: pg.Client, reader: pg.Client, newReader: () => pg.Client, writer: PostgresWriter, pipelined: boolean) {
    this.pool = pool;
    this.#client = client;
    this.#pipelined = pipelined;
    this.#reader = reader;
    this.#newReader = newReader;
    this.#watchReader(reader);
    this.#writer = writer;
  }

  /**
   * Connects (a pipelined writer connection, a pipelined reader and a small pool), migrates the
   * schema (S11). Rejects with the connection's error when no server answers.
   */
  static async open(o: PostgresStorageOptions): Promise<PostgresStorage> {
    const base = { connectionString: o.connectionString, ...(o.options ? { options: o.options } : {}) };
    const name = o.applicationName ?? 'attune';
    const pool = new pg.Pool({ ...base, max: o.poolSize ?? 2, application_name: name });
    // An idle pooled connection that breaks must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const pipeline = o.pipeline ?? true;
    const client = new pg.Client({ ...base, pipeline, application_name: `${name}-writer` });
    // The reader always pipelines: reads come concurrently from many callers.
    const newReader = () => new pg.Client({ ...base, pipeline: true, application_name: `${name}-reader` });
    const reader = newReader();
    try {
      await migratePostgres(pool);
      await Promise.all([client.connect(), reader.connect()]);
    } catch (e) {
      await Promise.all([client.end().catch(() => {}), reader.end().catch(() => {}), pool.end().catch(() => {})]);
      throw e;
    }
    const s = new PostgresStorage(pool, client, reader, newReader, new PostgresWriter(client, { batched: o.batched ?? true }), pipeline);
    client.on('error', (e) => s.#fail(`its connection failed (${e.message})`, e));
    client.on('end', () => {
      if (!s.#closing) s.#fail('its connection ended', undefined);
    });
    return s;
  }

  /** A reader whose connection breaks fails its reads in flight; the next read opens a new one. */
  #watchReader(reader: pg.Client): void {
    const broken = () => {
      if (this.#reader === reader) this.#readerBroken = true;
    };
    reader.on('error', broken);
    reader.on('end', broken);
  }

  /** The reader, reconnected first if its connection broke. */
  async #readerNow(): Promise<pg.Client> {
    if (this.#readerBroken) {
      this.#readerBroken = false;
      const fresh = this.#newReader();
      this.#reader = fresh;
      this.#watchReader(fresh);
      await fresh.connect().catch((e: unknown) => {
        if (this.#reader === fresh) this.#readerBroken = true;
        throw e;
      });
    }
    return this.#reader;
  }

  /** Groups that needed one savepoint per call because a statement raised (S11). */
  get slowGroups(): number {
    return this.#writer.slowGroups;
  }

  /** Whether writes are accepted and the database answers (`/readyz`). */
  async healthy(): Promise<boolean> {
    if (this.#failure || this.#closed) return false;
    try {
      await (await this.#readerNow()).query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  #fail(reason: string, cause: unknown): void {
    this.#failure ??= new Error(
      `PostgreSQL writer stopped: ${reason}. Writes in flight may or may not have committed; no further write is accepted (reads still work)`,
      cause === undefined ? undefined : { cause },
    );
  }

  #check(): void {
    if (this.#closed) throw new Error('storage is closed');
  }

  #enqueue<T>(call: PgWriteCall): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('storage is closed'));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ call, resolve: resolve as (value: never) => void, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#pending.length === 0 || this.#inFlight) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Sends every pending call as one group (after the current turn, so a turn's calls are never split). */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#inFlight || this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    if (this.#failure) {
      for (const w of group) w.reject(this.#failure);
      this.#done();
      return;
    }
    this.#inFlight = true;
    this.#sealed(group.map((w) => w.call))
      .then((calls) => this.#writer.commit(calls))
      .then(
      (o) => this.#settle(group, o),
      (e) => {
        this.#fail(`a group failed (${e instanceof Error ? e.message : String(e)})`, e);
        for (const w of group) w.reject(this.#failure);
        this.#inFlight = false;
        this.#done();
      },
    );
  }

  #settle(group: readonly Write[], o: PgGroupOutcome): void {
    this.#inFlight = false;
    if (o.committed) this.commits++;
    else this.#fail(`a COMMIT failed (${o.groupError instanceof Error ? o.groupError.message : String(o.groupError)})`, o.groupError);
    group.forEach((w, k) => {
      if (o.failures.has(k)) w.reject(o.failures.get(k));
      else if (!o.committed) w.reject(this.#failure);
      else w.resolve(o.values[k] as never);
    });
    this.#done();
  }

  #done(): void {
    this.#schedule();
    if (!this.#inFlight && this.#pending.length === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const f of waiters) f();
    }
  }

  /**
   * Runs a read. While writes are outstanding it goes on the writer's own pipelined connection,
   * queued behind what was sent before it and ahead of what is sent after, so a read is ordered
   * with the writes exactly as calls are (a read made before a write's group was sent never sees
   * it, even if the other connection's backend were scheduled late) — except while the writer
   * sends a group one statement at a time (savepoints, no pipelining), when a query queued there
   * would run inside the open transaction: then, and when nothing is outstanding, on the reader.
   */
  async #rows(text: string, values: readonly unknown[]): Promise<Row[]> {
    this.#check();
    const outstanding = this.#pending.length > 0 || this.#inFlight;
    const viaWriter = outstanding && !this.#failure && (!this.#inFlight || (this.#pipelined && !this.#writer.serial));
    const client = viaWriter ? this.#client : await this.#readerNow();
    return (await client.query(text, values as unknown[])).rows as Row[];
  }

  createSpace(space: SpaceRecord): Promise<boolean> {
    return this.#enqueue({ op: 'createSpace', space });
  }

  async getSpaceByCode(code: string): Promise<SpaceRecord | null> {
    const r = (await this.#rows('SELECT * FROM spaces WHERE code = $1', [code]))[0];
    return r ? spaceFrom(r) : null;
  }

  async getSpace(id: string): Promise<SpaceRecord | null> {
    const r = (await this.#rows('SELECT * FROM spaces WHERE id = $1', [id]))[0];
    return r ? spaceFrom(r) : null;
  }

  async listSpaces(): Promise<SpaceRecord[]> {
    // COLLATE "C": byte order of ids, as SQLite and the memory store compare them.
    return (await this.#rows('SELECT * FROM spaces ORDER BY created_at, id COLLATE "C"', [])).map(spaceFrom);
  }

  closeSpace(id: string, at: number): Promise<void> {
    return this.#enqueue({ op: 'closeSpace', id, at });
  }

  updateStewardTokenHash(id: string, hash: string): Promise<void> {
    return this.#enqueue({ op: 'updateStewardTokenHash', id, hash });
  }

  createParticipant(p: ParticipantRecord): Promise<void> {
    // A clash on a known id carries the same key, so the key stored and the one inputs are sealed with never differ.
    const known = this.#keys.get(p.id);
    const key = known ?? newParticipantKey();
    this.#keys.set(p.id, key);
    const done = this.#enqueue<void>({ op: 'createParticipant', p, key });
    done.catch(() => {
      if (!known && this.#keys.get(p.id) === key) this.#keys.delete(p.id);
    });
    return done;
  }

  /** Keeps a participant row's joined key (null: none stored) for sealing their next inputs. */
  #remember(r: Row): void {
    const id = String(r.id);
    if (this.#keys.get(id) === null && r.key instanceof Uint8Array) return;
    this.#keys.set(id, r.key instanceof Uint8Array ? new Uint8Array(r.key) : null);
  }

  /**
   * Seals a group's inputs (S16) just before it is sent: each under its participant's key —
   * loaded now, in queue order, for a participant this node has not seen create, resume or
   * recover — or left in the clear for a participant with no key (from before schema 8).
   */
  async #sealed(calls: readonly PgWriteCall[]): Promise<PgWriteCall[]> {
    const missing = new Set<string>();
    for (const c of calls) if (c.op === 'appendInputs') for (const i of c.rows) if (!this.#keys.has(i.participantId)) missing.add(i.participantId);
    if (missing.size > 0) {
      const ids = [...missing];
      const found = await this.#rows('SELECT participant_id, key FROM participant_keys WHERE participant_id = ANY($1::text[])', [ids]);
      for (const id of ids) this.#keys.set(id, null);
      for (const r of found) this.#keys.set(String(r.participant_id), new Uint8Array(r.key as Uint8Array));
    }
    return calls.map((c) => {
      if (c.op !== 'appendInputs') return c;
      const sealed = c.rows.map((i) => {
        const key = this.#keys.get(i.participantId);
        if (!key) return null;
        const a = i.affect;
        return seal(key, i.participantId, JSON.stringify({ v: a.valence, a: a.arousal, c: a.confidence, src: a.source, sv: i.shown?.valence ?? null, sa: i.shown?.arousal ?? null, hb: i.heartBpm ?? null } satisfies SealedInput));
      });
      return { ...c, sealed };
    });
  }

  async getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null> {
    const r = (await this.#rows(`SELECT p.*, k.key FROM ${PARTICIPANTS} WHERE p.token_hash = $1`, [tokenHash]))[0];
    if (r) this.#remember(r);
    return r ? participantFrom(r) : null;
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    const rows = await this.#rows(`SELECT p.*, k.key FROM ${PARTICIPANTS} WHERE p.space_id = $1 AND p.at IS NOT NULL AND p.at >= $2`, [spaceId, since]);
    for (const r of rows) this.#remember(r);
    return rows.map(participantFrom);
  }

  async countParticipants(spaceId: string): Promise<number> {
    const r = (await this.#rows('SELECT count(*) AS n FROM participants WHERE space_id = $1', [spaceId]))[0] as Row;
    return Number(r.n);
  }

  appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    // Sealed when its group is sent (#sealed), so a key still loading never reorders the queue.
    return this.#enqueue({ op: 'appendInputs', rows: inputs, sealed: [] });
  }

  async listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    return (await this.#rows(`SELECT ${INPUT_COLS} FROM ${INPUTS} WHERE i.space_id = $1 AND i.at >= $2 AND i.at < $3 ORDER BY i.at, i.id LIMIT $4`, [spaceId, from, to, Math.max(0, limit)])).flatMap((r) => inputFrom(r) ?? []);
  }

  async listInputsByN(spaceId: string, fromN: number, limit: number): Promise<(InputRecord & { readonly n: number })[]> {
    const rows = await this.#rows(`SELECT ${INPUT_COLS} FROM ${INPUTS} WHERE i.space_id = $1 AND i.n >= $2 ORDER BY i.n LIMIT $3`, [spaceId, fromN, Math.max(0, limit)]);
    return rows.flatMap((r) => (inputFrom(r) as (InputRecord & { readonly n: number }) | null) ?? []);
  }

  clearLatest(participantId: string): Promise<void> {
    return this.#enqueue({ op: 'clearLatest', id: participantId });
  }

  setParticipantGroup(participantId: string, group: string | null): Promise<void> {
    return this.#enqueue({ op: 'setParticipantGroup', id: participantId, group });
  }

  eraseParticipant(participantId: string): Promise<{ readonly inputs: number }> {
    // Forget the key here at once: nothing sealed or read from now on uses it.
    this.#keys.set(participantId, null);
    return this.#enqueue({ op: 'eraseParticipant', id: participantId });
  }

  async storedCounts(spaceId: string): Promise<StoredCounts> {
    const r = (
      await this.#rows(
        `SELECT (SELECT count(*) FROM spaces WHERE id = $1)::int AS s,
  (SELECT count(*) FROM participants WHERE space_id = $1)::int AS participants,
  (SELECT count(*) FROM inputs WHERE space_id = $1)::int AS inputs,
  (SELECT count(sealed) FROM inputs WHERE space_id = $1)::int AS sealed,
  (SELECT count(*) FROM events WHERE space_id = $1)::int AS events,
  (SELECT count(*) FROM events WHERE space_id = $1 AND kind = 'erased')::int AS erased,
  (SELECT count(*) FROM consents WHERE participant_id IN (SELECT id FROM participants WHERE space_id = $1))::int AS consents,
  (SELECT count(*) FROM stories WHERE space_id = $1)::int AS stories`,
        [spaceId],
      )
    )[0] as Row;
    if (Number(r.s) !== 1) throw new Error(`unknown space ${spaceId}`);
    return { participants: Number(r.participants), inputs: Number(r.inputs), sealedInputs: Number(r.sealed), erased: Number(r.erased), consents: Number(r.consents), stories: Number(r.stories), events: Number(r.events) };
  }

  purgeSpace(spaceId: string, at: number): Promise<StoredCounts> {
    return this.#enqueue({ op: 'purgeSpace', spaceId, at });
  }

  async listParticipantInputs(participantId: string): Promise<InputRecord[]> {
    return (await this.#rows(`SELECT ${INPUT_COLS} FROM ${INPUTS} WHERE i.participant_id = $1 ORDER BY i.seq`, [participantId])).flatMap((r) => inputFrom(r) ?? []);
  }

  recordConsent(c: ConsentRecord): Promise<void> {
    return this.#enqueue({ op: 'recordConsent', c });
  }

  async listConsents(participantId: string): Promise<ConsentRecord[]> {
    return (await this.#rows('SELECT * FROM consents WHERE participant_id = $1 ORDER BY at', [participantId])).map(consentFrom);
  }

  setSpaceSecret(spaceId: string, noiseSeed: string): Promise<void> {
    return this.#enqueue({ op: 'setSpaceSecret', spaceId, noiseSeed });
  }

  async getSpaceSecret(spaceId: string): Promise<string | null> {
    const r = (await this.#rows('SELECT noise_seed FROM space_secrets WHERE space_id = $1', [spaceId]))[0];
    return r ? String(r.noise_seed) : null;
  }

  appendPrivacyRelease(r: PrivacyReleaseRecord): Promise<void> {
    return this.#enqueue({ op: 'appendPrivacyRelease', r });
  }

  async listPrivacyReleases(spaceId: string): Promise<PrivacyReleaseRecord[]> {
    return (await this.#rows('SELECT * FROM privacy_releases WHERE space_id = $1 ORDER BY n', [spaceId])).map(privacyReleaseFrom);
  }

  setSpaceLink(spaceId: string, otherId: string, agree: boolean, at: number): Promise<void> {
    return this.#enqueue({ op: 'setSpaceLink', spaceId, otherId, agree, at });
  }

  putGovernance(spaceId: string, snapshot: string): Promise<void> {
    return this.#enqueue({ op: 'putGovernance', spaceId, snapshot });
  }

  async getGovernance(spaceId: string): Promise<string | null> {
    const rows = await this.#rows('SELECT snapshot FROM governance WHERE space_id = $1', [spaceId]);
    return rows[0] ? String(rows[0].snapshot) : null;
  }

  async listSpaceLinks(spaceId: string): Promise<string[]> {
    return (await this.#rows('SELECT other_id FROM space_links WHERE space_id = $1 ORDER BY at, other_id COLLATE "C"', [spaceId])).map((r) => String(r.other_id));
  }

  appendEvents(events: readonly SpaceEventRecord[]): Promise<void> {
    return this.#enqueue({ op: 'appendEvents', rows: events });
  }

  async listEvents(spaceId: string, fromN: number, limit: number): Promise<SpaceEventRecord[]> {
    return (await this.#rows('SELECT * FROM events WHERE space_id = $1 AND n >= $2 ORDER BY n LIMIT $3', [spaceId, fromN, Math.max(0, limit)])).map(eventFrom);
  }

  async lastEventN(spaceId: string): Promise<number> {
    const r = (await this.#rows(
      'SELECT greatest(coalesce((SELECT max(n) FROM events WHERE space_id = $1), 0), coalesce((SELECT max(n) FROM inputs WHERE space_id = $1 AND n IS NOT NULL), 0)) AS n',
      [spaceId],
    ))[0] as Row;
    return Number(r.n);
  }

  appendPulsePoints(points: readonly PulsePoint[]): Promise<void> {
    return this.#enqueue({ op: 'appendPulsePoints', rows: points });
  }

  async listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    const rows = await this.#rows('SELECT * FROM pulse_points WHERE space_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4', [spaceId, from, to, Math.max(0, limit)]);
    return rows.map(pulsePointFrom);
  }

  createStory(story: StoryRecord): Promise<void> {
    return this.#enqueue({ op: 'createStory', story: { ...story, flags: [...story.flags] } });
  }

  setStoryStatus(id: string, status: StoryRecord['status'], reason: string | null, at: number): Promise<void> {
    return this.#enqueue({ op: 'setStoryStatus', id, status, reason, at });
  }

  eraseStory(id: string): Promise<void> {
    return this.#enqueue({ op: 'eraseStory', id });
  }

  async listStories(spaceId: string): Promise<StoryRecord[]> {
    const rows = await this.#rows('SELECT * FROM stories WHERE space_id = $1 ORDER BY created_at, id COLLATE "C"', [spaceId]);
    return rows.map(storyFrom);
  }

  setStorySettings(spaceId: string, settings: StorySettingsRecord, at: number): Promise<void> {
    return this.#enqueue({ op: 'setStorySettings', spaceId, settings: { enabled: settings.enabled, moderation: settings.moderation }, at });
  }

  async getStorySettings(spaceId: string): Promise<StorySettingsRecord | null> {
    const r = (await this.#rows('SELECT enabled, moderation FROM story_settings WHERE space_id = $1', [spaceId]))[0];
    return r ? { enabled: r.enabled === true, moderation: r.moderation === 'post' ? 'post' : 'pre' } : null;
  }

  setFeedSetting(spaceId: string, kind: FeedSettingKind, values: readonly string[], at: number): Promise<void> {
    return this.#enqueue({ op: 'setFeedSetting', spaceId, kind, values: [...values], at });
  }

  async listFeedSettings(): Promise<FeedSettingRecord[]> {
    const rows = await this.#rows('SELECT * FROM feed_settings ORDER BY space_id COLLATE "C", kind COLLATE "C"', []);
    return rows.map(feedSettingFrom);
  }

  addWebhook(w: WebhookRecord): Promise<void> {
    return this.#enqueue({ op: 'addWebhook', w: { ...w, events: [...w.events] } });
  }

  removeWebhook(id: string): Promise<void> {
    return this.#enqueue({ op: 'removeWebhook', id });
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const rows = await this.#rows('SELECT * FROM webhooks ORDER BY created_at, ord', []);
    return rows.map(webhookFrom);
  }

  appendWebhookDeliveries(records: readonly WebhookDeliveryRecord[], keepPerSpace: number): Promise<void> {
    return this.#enqueue({ op: 'appendWebhookDeliveries', rows: records.map((d) => ({ ...d })), keepPerSpace });
  }

  async listWebhookDeliveries(spaceId: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.#rows('SELECT * FROM (SELECT * FROM webhook_deliveries WHERE space_id = $1 ORDER BY id DESC LIMIT $2) d ORDER BY id', [spaceId, Math.max(0, limit)]);
    return rows.map(webhookDeliveryFrom);
  }

  /**
   * Refuses further calls at once, commits every pending write (their promises settle as
   * usual), then closes the writer connection and the pool. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight || this.#pending.length > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
    await Promise.all([this.#client.end().catch(() => {}), this.#reader.end().catch(() => {}), this.pool.end().catch(() => {})]);
  }
}
