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
 *
 * Sealing keys (S16, S18) live in the key store, a database of its own (postgresKeyStore.ts), so
 * a backup of this database holds no key. No query joins the two: keys are read by id and kept
 * in memory; a group's new keys are committed in the key store before the group is sent here
 * (a participant's key exists before their row and before any input sealed under it), and
 * erasure and retention delete keys there before the group that deletes the rows.
 */
import pg from 'pg';
import type { Affect, AffectSource } from '../../core/affect.ts';
import { newParticipantKey, seal, unseal } from '../sealing.ts';
import type { ConsentRecord, FeedSettingKind, FeedSettingRecord, InputRecord, ParticipantRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage, StoredCounts, StoryRecord, StorySettingsRecord, WebhookDeliveryRecord, WebhookRecord } from '../port.ts';
import { consentFrom, eventFrom, feedSettingFrom, privacyReleaseFrom, pulsePointFrom, type Row, storyFrom, webhookDeliveryFrom, webhookFrom } from '../rows.ts';
import { defaultKeyStoreUrl, keyStoreDatabase, PostgresKeyStore } from './postgresKeyStore.ts';
import { migratePostgres } from './postgresSchema.ts';
import { type PgGroupOutcome, type PgWriteCall, PostgresWriter } from './postgresWriter.ts';
import { CommitPacer, type CommitTimer, DEFAULT_MIN_COMMIT_INTERVAL_MS } from '../commitInterval.ts';


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

/** Opens a row's sealed value with its participant's key (null: no key — erased — or no seal). */
function opened(r: Row, participantId: string, key: Uint8Array | null | undefined): SealedInput | null {
  if (typeof r.sealed !== 'string' || !key) return null;
  const text = unseal(key, participantId, r.sealed);
  return text === null ? null : (JSON.parse(text) as SealedInput);
}

/**
 * Whether an error leaves the connection usable: the server's answer to a statement (a SQLSTATE),
 * except connection exceptions (class 08) and the server ending the session (57P01–57P05:
 * terminated by an administrator, shutdown, crash, …). Anything else (EPIPE, ECONNRESET,
 * "Connection terminated") is a broken connection.
 */
const connectionUsable = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !/^57P0[1-5]$/.test(code);
};

/** A participant's key as the reader knows it (undefined or null: none). */
type KeyOf = (participantId: string) => Uint8Array | null | undefined;

function participantFrom(r: Row, keyOf: KeyOf): ParticipantRecord {
  const id = String(r.id);
  const s = typeof r.sealed === 'string' ? opened(r, id, keyOf(id)) : null;
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

function inputFrom(r: Row, keyOf: KeyOf): InputRecord | null {
  if (typeof r.sealed === 'string') {
    const pid = String(r.participant_id);
    const s = opened(r, pid, keyOf(pid));
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


/** Input columns (S16); sealed rows open with keys read from the key store by id (S18). */
const INPUT_COLS = 'space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n, heart_bpm, sealed';

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
  /** Send the writer's statements as named prepared statements (default true); off only to measure it. */
  readonly prepared?: boolean;
  /**
   * The least time between two groups' starts, ms (default {@link DEFAULT_MIN_COMMIT_INTERVAL_MS}, commitInterval.ts;
   * 0: none). A group due sooner after the previous one was sent waits out the rest, gathering
   * every call made meanwhile; one due later — an idle writer, or after a COMMIT that took
   * longer — is sent after the current turn, as with none.
   */
  readonly minCommitIntervalMs?: number;
  /** The clock and timer of that wait (default: performance.now and setTimeout); tests pass a ManualScheduler. */
  readonly timer?: CommitTimer;
  /**
   * The key store (S18): the database of the participants' sealing keys, apart from this one
   * (`attune serve --keys URL`). Default: the database `<db>_keys` on the same server with the
   * same options (see {@link defaultKeyStoreUrl}), created when absent.
   */
  readonly keys?: { readonly connectionString: string; readonly options?: string };
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
  /** The participants' sealing keys, in a database of their own (S18). */
  readonly keyStore: PostgresKeyStore;
  #pending: Write[] = [];
  /** Participants' sealing keys (S16) known to this node; null: erased here (nothing is sealed or opened for them again). */
  readonly #keys = new Map<string, Uint8Array | null>();
  /** When the next group starts (the commit interval). */
  readonly #pacer: CommitPacer;
  #inFlight = false;
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  #closing: Promise<void> | null = null;
  #failure: Error | null = null;
  /** Number of group commits made (for tests and metrics). */
  commits = 0;

  private constructor(pool: pg.Pool, client: pg.Client, reader: pg.Client, newReader: () => pg.Client, writer: PostgresWriter, pipelined: boolean, keyStore: PostgresKeyStore, pacer: CommitPacer) {
    this.pool = pool;
    this.#pacer = pacer;
    this.keyStore = keyStore;
    this.#client = client;
    this.#pipelined = pipelined;
    this.#reader = reader;
    this.#newReader = newReader;
    this.#watchReader(reader);
    this.#writer = writer;
  }

  /**
   * Connects (a pipelined writer connection, a pipelined reader and a small pool), opens the key
   * store (S18: creating its database when it is the default one and absent), migrates the schema
   * (S11; keys still in this database move to the key store) and checks that this database's keys
   * are in that key store. Rejects with the connection's error when no server answers.
   */
  static async open(o: PostgresStorageOptions): Promise<PostgresStorage> {
    const pacer = new CommitPacer(o.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS, o.timer);
    const base = { connectionString: o.connectionString, ...(o.options ? { options: o.options } : {}) };
    const name = o.applicationName ?? 'attune';
    const keysAt = o.keys ?? { connectionString: defaultKeyStoreUrl(o.connectionString), ...(o.options ? { options: o.options } : {}) };
    const keyStore = await PostgresKeyStore.open({
      ...keysAt,
      applicationName: `${name}-keys`,
      // The default key store is created from this database's connection; one named with --keys from its own server's `postgres` database.
      createFrom: o.keys ? { ...keysAt, connectionString: maintenanceUrl(keysAt.connectionString) } : base,
    });
    const pool = new pg.Pool({ ...base, max: o.poolSize ?? 2, application_name: name });
    // An idle pooled connection that breaks must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const pipeline = o.pipeline ?? true;
    const client = new pg.Client({ ...base, pipeline, application_name: `${name}-writer` });
    // The reader always pipelines: reads come concurrently from many callers.
    const newReader = () => new pg.Client({ ...base, pipeline: true, application_name: `${name}-reader` });
    const reader = newReader();
    try {
      await migratePostgres(pool, { storeId: keyStore.storeId, shown: keyStore.database, put: (rows) => keyStore.put(rows) });
      await Promise.all([client.connect(), reader.connect()]);
    } catch (e) {
      await Promise.all([client.end().catch(() => {}), reader.end().catch(() => {}), pool.end().catch(() => {}), keyStore.close().catch(() => {})]);
      throw e;
    }
    const s = new PostgresStorage(pool, client, reader, newReader, new PostgresWriter(client, { batched: o.batched ?? true, prepared: o.prepared ?? true }), pipeline, keyStore, pacer);
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
      return await this.keyStore.healthy();
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
    if (this.#pending.length === 0 || this.#inFlight) return;
    this.#pacer.schedule(() => this.#flush(), this.#closed);
  }

  /**
   * Sends every pending call as one group (after the current turn, so a turn's calls are never
   * split; and no sooner than `minCommitIntervalMs` after the last group was sent).
   */
  #flush(): void {
    this.#pacer.fired();
    if (this.#inFlight || this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    this.#pacer.sent();
    if (this.#failure) {
      for (const w of group) w.reject(this.#failure);
      this.#done();
      return;
    }
    this.#inFlight = true;
    const calls = group.map((w) => w.call);
    let put: Set<string> = new Set();
    // Keys first (S18), in the key store's own commits; if that fails, nothing of the group was
    // sent here: its calls reject and later groups go on.
    this.#sealed(calls)
      .then(async (sealed) => {
        put = await this.#keysFirst(sealed);
        return sealed;
      })
      .then(
        (sealed) =>
          this.#writer.commit(sealed).then(
            (o) => {
              this.#settle(group, o);
              this.#forgetFailedKeys(calls, o, put);
            },
            (e) => {
              this.#fail(`a group failed (${e instanceof Error ? e.message : String(e)})`, e);
              for (const w of group) w.reject(this.#failure);
              this.#inFlight = false;
              this.#done();
            },
          ),
        (e) => {
          const err = new Error(`the key store failed, so this group was not written (${e instanceof Error ? e.message : String(e)})`, { cause: e });
          for (const w of group) w.reject(err);
          this.#inFlight = false;
          this.#done();
        },
      );
  }

  /**
   * Before a group is sent (S18): the keys of the participants it creates go into the key store,
   * and the keys of those it erases or purges come out of it — each its own commit there, ahead
   * of the group's commit here. Resolves the ids whose new key went in.
   */
  async #keysFirst(calls: readonly PgWriteCall[]): Promise<Set<string>> {
    const fresh = calls.flatMap((c) => (c.op === 'createParticipant' ? [{ id: c.p.id, key: c.key }] : []));
    const put = await this.keyStore.put(fresh);
    const gone = new Set<string>();
    const spaces: string[] = [];
    for (const c of calls) {
      if (c.op === 'eraseParticipant') gone.add(c.id);
      if (c.op === 'purgeSpace') spaces.push(c.spaceId);
    }
    if (spaces.length > 0) {
      // A space's participants: those stored, and those this very group creates in it.
      for (const r of await this.#rows('SELECT id FROM participants WHERE space_id = ANY($1::text[])', [spaces])) gone.add(String(r.id));
      for (const c of calls) if (c.op === 'createParticipant' && spaces.includes(c.p.spaceId)) gone.add(c.p.id);
      for (const id of gone) this.#keys.set(id, null);
    }
    await this.keyStore.delete([...gone]);
    return put;
  }

  /** A participant whose creation failed leaves no key behind: the key put for them is deleted (if still theirs). */
  #forgetFailedKeys(calls: readonly PgWriteCall[], o: PgGroupOutcome, put: ReadonlySet<string>): void {
    const orphans = calls.flatMap((c, k) => (c.op === 'createParticipant' && put.has(c.p.id) && (o.failures.has(k) || !o.committed) ? [{ id: c.p.id, key: c.key }] : []));
    if (orphans.length > 0) this.keyStore.deleteExact(orphans).catch(() => {});
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
    try {
      return (await client.query(text, values as unknown[])).rows as Row[];
    } catch (e) {
      // A failure of the connection itself: the reader is broken now, even if its 'error' or
      // 'end' event has not been delivered yet, so the next read opens a new one instead of
      // writing to the dead socket again.
      if (client === this.#reader && !connectionUsable(e)) this.#readerBroken = true;
      throw e;
    }
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

  /** Loads from the key store the keys of `ids` this node does not know yet (S18). */
  async #load(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#keys.has(id));
    if (missing.length === 0) return;
    for (const [id, key] of await this.keyStore.get(missing)) if (!this.#keys.has(id)) this.#keys.set(id, key);
  }

  /** The key of a participant as this node knows it (after {@link #load}). */
  readonly #keyOf: KeyOf = (id) => this.#keys.get(id);

  /** Loads the keys that the sealed ones among `rows` need (`idOf`: the row's participant). */
  async #open<T>(rows: readonly Row[], idOf: (r: Row) => string, read: (r: Row, keyOf: KeyOf) => T): Promise<T[]> {
    await this.#load(rows.flatMap((r) => (typeof r.sealed === 'string' ? [idOf(r)] : [])));
    return rows.map((r) => read(r, this.#keyOf));
  }

  /**
   * Seals a group's inputs (S16) just before it is sent: each under its participant's key —
   * loaded now from the key store, in queue order, for a participant this node has not seen
   * create or read. A stored participant with no key (from before schema 8, or whose database
   * was restored beside a key store that lost it) gets one, committed in the key store first:
   * nothing new is stored in the clear. Participants erased here are not sealed for (their rows
   * are gone, and the append rejects).
   */
  async #sealed(calls: readonly PgWriteCall[]): Promise<PgWriteCall[]> {
    const wanted = new Set<string>();
    for (const c of calls) if (c.op === 'appendInputs') for (const i of c.rows) if (!this.#keys.has(i.participantId)) wanted.add(i.participantId);
    if (wanted.size > 0) {
      await this.#load(wanted);
      const keyless = [...wanted].filter((id) => !this.#keys.has(id));
      if (keyless.length > 0) {
        const stored = (await this.#rows('SELECT id FROM participants WHERE id = ANY($1::text[])', [keyless])).map((r) => String(r.id));
        const made = stored.map((id) => ({ id, key: newParticipantKey() }));
        const went = await this.keyStore.put(made);
        for (const m of made) if (went.has(m.id)) this.#keys.set(m.id, m.key);
        // Another node gave them a key at the same moment: use that one.
        await this.#load(made.filter((m) => !went.has(m.id)).map((m) => m.id));
      }
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
    const rows = await this.#rows('SELECT * FROM participants WHERE token_hash = $1', [tokenHash]);
    // A resumed participant's key is loaded now, so their next inputs seal without a lookup.
    await this.#load(rows.map((r) => String(r.id)));
    return rows[0] ? participantFrom(rows[0], this.#keyOf) : null;
  }

  async listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]> {
    const rows = await this.#rows('SELECT * FROM participants WHERE space_id = $1 AND at IS NOT NULL AND at >= $2', [spaceId, since]);
    await this.#load(rows.map((r) => String(r.id)));
    return rows.map((r) => participantFrom(r, this.#keyOf));
  }

  async countParticipants(spaceId: string): Promise<number> {
    const r = (await this.#rows('SELECT count(*) AS n FROM participants WHERE space_id = $1', [spaceId]))[0] as Row;
    return Number(r.n);
  }

  appendInputs(inputs: readonly InputRecord[]): Promise<void> {
    // Sealed when its group is sent (#sealed), so a key still loading never reorders the queue.
    return this.#enqueue({ op: 'appendInputs', rows: inputs, sealed: [] });
  }

  /** Input rows, opened (a sealed row whose key is gone is left out: erased). */
  async #inputs(text: string, values: readonly unknown[]): Promise<InputRecord[]> {
    return (await this.#open(await this.#rows(text, values), (r) => String(r.participant_id), inputFrom)).flatMap((i) => i ?? []);
  }

  listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]> {
    return this.#inputs(`SELECT ${INPUT_COLS} FROM inputs WHERE space_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4`, [spaceId, from, to, Math.max(0, limit)]);
  }

  async listInputsByN(spaceId: string, fromN: number, limit: number): Promise<(InputRecord & { readonly n: number })[]> {
    return (await this.#inputs(`SELECT ${INPUT_COLS} FROM inputs WHERE space_id = $1 AND n >= $2 ORDER BY n LIMIT $3`, [spaceId, fromN, Math.max(0, limit)])) as (InputRecord & { readonly n: number })[];
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

  listParticipantInputs(participantId: string): Promise<InputRecord[]> {
    return this.#inputs(`SELECT ${INPUT_COLS} FROM inputs WHERE participant_id = $1 ORDER BY seq`, [participantId]);
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
    // What waits for its turn (minCommitIntervalMs) goes now: nothing more can join it.
    if (this.#pacer.waiting) this.#flush();
    if (this.#inFlight || this.#pending.length > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
    await Promise.all([this.#client.end().catch(() => {}), this.#reader.end().catch(() => {}), this.pool.end().catch(() => {}), this.keyStore.close().catch(() => {})]);
  }
}

/** The `postgres` database of the server a URL names (to CREATE DATABASE from, when a named key store's database is absent). */
function maintenanceUrl(url: string): string {
  const u = new URL(url);
  u.pathname = '/postgres';
  return u.toString();
}

export { DEFAULT_MIN_COMMIT_INTERVAL_MS, defaultKeyStoreUrl, keyStoreDatabase };
