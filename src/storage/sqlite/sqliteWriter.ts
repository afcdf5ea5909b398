/**
 * The write side of SqliteStorage: applies one group of write calls in ONE transaction, each
 * call in call order, a failing call rolled back alone (SPEC S3, S8), then COMMITs.
 *
 * It runs wherever its connection lives: normally inside the writer thread
 * (sqliteWriterWorker.ts), on a connection of its own, so the COMMIT and its fsync
 * (`synchronous = FULL`) never block the server's event loop; for a database with no file to
 * share (`:memory:`) on the main connection itself. Calls arrive as plain data (`WriteCall`: the
 * statement parameters, built on the main thread), because they cross `postMessage`.
 *
 * A call that runs at most one modifying statement needs no savepoint: SQLite already undoes a
 * failing statement alone and keeps the transaction (the ABORT conflict resolution), which keeps
 * a join storm (thousands of `createParticipant` in one turn) at one cheap transaction.
 *
 * Inputs are decided set-based (the hot path: one call per input, hundreds per group): a run of
 * consecutive `appendInputs` calls is decided in memory from two set reads — the run's
 * participants, and the event numbers its inputs would take that events already hold — by the
 * same rules as call by call: the seq rule (S3) skips replays; an unknown participant or a bad
 * or taken event number (S8) fails a call. When no call fails (the normal case), the accepted
 * rows are inserted and each participant's latest point is set once, from their last accepted
 * input, under one savepoint for the run instead of one per call (the per-input savepoint, reads
 * and repeated updates were ≈ 30 % of the writer's statement time). When one would fail, or a
 * statement raises anyway (an n another input holds, caught by the unique index), the run goes
 * call by call, so the outcome is always the call-by-call one (sqliteWriter.test.ts checks the
 * two against each other). Multi-row `INSERT … VALUES (…),(…)` was measured too and not kept: binding a few
 * hundred parameters per statement through node:sqlite cost more per row (≈ 5.8 vs 4.3 µs) than
 * re-running one prepared single-row statement, whose per-call overhead is small.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';

/** `spaces` columns in insert order: id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at, closed_at, groups (JSON array, or null: none), retention_ms (null: the server's). */
export type SpaceRow = readonly [string, string, string, string, number, number, string, number, number | null, string | null, number | null];
/** `participants` columns in insert order: id, space_id, token_hash, joined_at, last_seq, v, a, c, src, at, grp (the chosen group, or null). */
export type ParticipantRow = readonly [string, string, string, number, number, number | null, number | null, number | null, string | null, number | null, string | null];
/** An input: space_id, participant_id, seq, v, a, c, src, at, exposed (0/1), shown_v, shown_a, n (null: unnumbered), heart_bpm (null: none), sealed (null: plaintext; else v…heart_bpm hold placeholders, S13). */
export type InputRow = readonly [string, string, number, number, number, number, string, number, 0 | 1, number | null, number | null, number | null, number | null, string | null];
/** An event: space_id, n, at, kind, participant_id, body. */
export type EventRow = readonly [string, number, number, string, string | null, string | null];
/** A pulse point: space_id, at, count, v, a, sv, sa, q0, q1, q2, q3. */
export type PulseRow = readonly [string, number, number, number, number, number, number, number, number, number, number];

/** A story: id, space_id, participant_id, text, name, v, a, c, flags (JSON array), status, reason, created_at, decided_at. */
export type StoryRow = readonly [string, string, string, string, string | null, number, number, number, string, string, string | null, number, number | null];
/** A webhook subscription: id, space_id, url, events (JSON array), created_at. */
export type WebhookRow = readonly [string, string, string, string, number];
/** A webhook delivery attempt: space_id, delivery, webhook, event, type, attempt, at, status, outcome, error, next_attempt_at. */
export type DeliveryRow = readonly [string, string, string, string, string, number, number, number | null, string, string | null, number | null];

/** One write call of the Storage port, as plain data (structured-cloneable). */
export type WriteCall =
  | { readonly op: 'createSpace'; readonly row: SpaceRow }
  | { readonly op: 'closeSpace'; readonly at: number; readonly id: string }
  | { readonly op: 'updateStewardTokenHash'; readonly id: string; readonly hash: string }
  | { readonly op: 'createParticipant'; readonly row: ParticipantRow; readonly key: Uint8Array | null }
  | { readonly op: 'eraseParticipant'; readonly id: string }
  | { readonly op: 'purgeSpace'; readonly spaceId: string; readonly at: number }
  /** A sealing key for an existing participant who has none (S18); ignored for an unknown one. */
  | { readonly op: 'putKey'; readonly id: string; readonly key: Uint8Array }
  /** participant_id, at, hash, purposes (JSON). */
  | { readonly op: 'recordConsent'; readonly row: readonly [string, number, string, string] }
  | { readonly op: 'clearLatest'; readonly id: string }
  | { readonly op: 'setParticipantGroup'; readonly id: string; readonly group: string | null }
  | { readonly op: 'setSpaceLink'; readonly spaceId: string; readonly otherId: string; readonly agree: boolean; readonly at: number }
  | { readonly op: 'putGovernance'; readonly spaceId: string; readonly snapshot: string }
  | { readonly op: 'appendInputs'; readonly rows: readonly InputRow[] }
  | { readonly op: 'appendEvents'; readonly rows: readonly EventRow[] }
  | { readonly op: 'appendPulsePoints'; readonly rows: readonly PulseRow[] }
  | { readonly op: 'createStory'; readonly row: StoryRow }
  | { readonly op: 'setStoryStatus'; readonly id: string; readonly status: string; readonly reason: string | null; readonly at: number }
  | { readonly op: 'eraseStory'; readonly id: string }
  | { readonly op: 'setStorySettings'; readonly spaceId: string; readonly enabled: boolean; readonly moderation: string; readonly at: number }
  | { readonly op: 'setFeedSetting'; readonly spaceId: string; readonly kind: string; readonly values: string | null; readonly at: number }
  | { readonly op: 'addWebhook'; readonly row: WebhookRow }
  | { readonly op: 'removeWebhook'; readonly id: string }
  | { readonly op: 'appendWebhookDeliveries'; readonly rows: readonly DeliveryRow[]; readonly keepPerSpace: number }
  | { readonly op: 'setSpaceSecret'; readonly spaceId: string; readonly noiseSeed: string }
  /** space_id, n, at, what, params, rho_micro, body. */
  | { readonly op: 'appendPrivacyRelease'; readonly row: readonly [string, number, number, string, string, number, string] };

/**
 * What became of a group. `committed`: the COMMIT returned, so every call not in `failures` is
 * durable, and `values[k]` is call k's result (only `createSpace` has one). Otherwise nothing of
 * the group is durable and `groupError` says why; every call rejects (with its own error when it
 * had already failed).
 */
export interface GroupOutcome<E = unknown> {
  readonly committed: boolean;
  readonly values: readonly unknown[];
  readonly failures: readonly (readonly [index: number, error: E])[];
  readonly groupError: E | null;
}

/** An error as it crosses postMessage: what a caller may look at (node:sqlite adds code, errcode, errstr). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly errcode?: number;
  readonly errstr?: string;
}

/** Flattens a throwable to plain data (no prototype survives structured clone intact). */
export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  return {
    name: x.name,
    message: x.message,
    ...(x.stack === undefined ? {} : { stack: x.stack }),
    ...(typeof x.code === 'string' ? { code: x.code } : {}),
    ...(typeof x.errcode === 'number' ? { errcode: x.errcode } : {}),
    ...(typeof x.errstr === 'string' ? { errstr: x.errstr } : {}),
  };
}

/** Rebuilds an Error from {@link serializeError}'s data: same class (for the built-in ones), message, stack and SQLite codes. */
export function deserializeError(s: SerializedError): Error {
  const Ctor = s.name === 'RangeError' ? RangeError : s.name === 'TypeError' ? TypeError : Error;
  const e = new Ctor(s.message) as Error & { code?: string; errcode?: number; errstr?: string };
  if (e.name !== s.name) e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  if (s.code !== undefined) e.code = s.code;
  if (s.errcode !== undefined) e.errcode = s.errcode;
  if (s.errstr !== undefined) e.errstr = s.errstr;
  return e;
}

/** Throws unless `n` is a valid event number (a positive safe integer; numbering starts at 1). */
function checkEventNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`event number must be a positive integer, got ${n}`);
}

/** Every write statement, prepared once. */
function prepareWrites(db: DatabaseSync) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT one'),
    release: db.prepare('RELEASE one'),
    rollbackTo: db.prepare('ROLLBACK TO one'),
    // INSERT OR IGNORE skips a clash on the id (primary key) or the code (unique) alike (S1).
    insertSpace: db.prepare('INSERT OR IGNORE INTO spaces (id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at, closed_at, groups, retention_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    closeSpace: db.prepare("UPDATE spaces SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'"),
    stewardHash: db.prepare('UPDATE spaces SET steward_token_hash = ? WHERE id = ?'),
    insertParticipant: db.prepare('INSERT INTO participants (id, space_id, token_hash, joined_at, last_seq, v, a, c, src, at, grp) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    setGroup: db.prepare('UPDATE participants SET grp = ? WHERE id = ?'),
    // The foreign key rejects an unknown space; a repeated agreement keeps the first one's time.
    addLink: db.prepare('INSERT OR IGNORE INTO space_links (space_id, other_id, at) VALUES (?,?,?)'),
    removeLink: db.prepare('DELETE FROM space_links WHERE space_id = ? AND other_id = ?'),
    spaceExists: db.prepare('SELECT 1 AS x FROM spaces WHERE id = ?'),
    putGovernance: db.prepare('INSERT INTO governance (space_id, snapshot) VALUES (?, ?) ON CONFLICT (space_id) DO UPDATE SET snapshot = excluded.snapshot'),
    participantLastSeq: db.prepare('SELECT last_seq, space_id FROM participants WHERE id = ?'),
    // The set reads of an input run: its participants (a JSON array of ids), and which of a
    // space's event numbers (a JSON array) events already hold.
    participantsIn: db.prepare('SELECT id, space_id, last_seq FROM participants WHERE id IN (SELECT value FROM json_each(?))'),
    eventsIn: db.prepare('SELECT n FROM events WHERE space_id = ? AND n IN (SELECT value FROM json_each(?))'),
    // Only a replayed (participant, seq) is skipped; a duplicate n still fails (S8).
    insertInput: db.prepare(
      'INSERT INTO inputs (space_id, participant_id, seq, v, a, c, src, at, exposed, shown_v, shown_a, n, heart_bpm, sealed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (participant_id, seq) DO NOTHING',
    ),
    updateLatest: db.prepare('UPDATE participants SET last_seq = ?, v = ?, a = ?, c = ?, src = ?, at = ?, sealed = ? WHERE id = ?'),
    // The keys live in the key store, attached as `keys` (S18).
    insertKey: db.prepare('INSERT OR REPLACE INTO keys.participant_keys (participant_id, key) VALUES (?,?)'),
    putKey: db.prepare('INSERT OR IGNORE INTO keys.participant_keys (participant_id, key) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM main.participants WHERE id = ?)'),
    eraseInputs: db.prepare('DELETE FROM inputs WHERE participant_id = ?'),
    eraseEvents: db.prepare('DELETE FROM events WHERE space_id = ? AND participant_id = ?'),
    eraseKey: db.prepare('DELETE FROM keys.participant_keys WHERE participant_id = ?'),
    eraseConsents: db.prepare('DELETE FROM consents WHERE participant_id = ?'),
    eraseStories: db.prepare('DELETE FROM stories WHERE participant_id = ?'),
    eraseParticipant: db.prepare('DELETE FROM participants WHERE id = ?'),
    // Retention (S17): the counts first (what the run deleted), then keys first, like an erasure.
    countParticipants: db.prepare('SELECT COUNT(*) AS n FROM participants WHERE space_id = ?'),
    countInputs: db.prepare('SELECT COUNT(*) AS n, COUNT(sealed) AS sealed FROM inputs WHERE space_id = ?'),
    countEvents: db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(kind = 'erased'), 0) AS erased FROM events WHERE space_id = ?"),
    countConsents: db.prepare('SELECT COUNT(*) AS n FROM consents WHERE participant_id IN (SELECT id FROM participants WHERE space_id = ?)'),
    countStories: db.prepare('SELECT COUNT(*) AS n FROM stories WHERE space_id = ?'),
    purgeKeys: db.prepare('DELETE FROM keys.participant_keys WHERE participant_id IN (SELECT id FROM main.participants WHERE space_id = ?)'),
    purgeInputs: db.prepare('DELETE FROM inputs WHERE space_id = ?'),
    purgeEvents: db.prepare('DELETE FROM events WHERE space_id = ?'),
    purgeConsents: db.prepare('DELETE FROM consents WHERE participant_id IN (SELECT id FROM participants WHERE space_id = ?)'),
    purgeStories: db.prepare('DELETE FROM stories WHERE space_id = ?'),
    purgeParticipants: db.prepare('DELETE FROM participants WHERE space_id = ?'),
    purgeSecret: db.prepare('DELETE FROM space_secrets WHERE space_id = ?'),
    markPurged: db.prepare('UPDATE spaces SET purged_at = coalesce(purged_at, ?) WHERE id = ?'),
    insertConsent: db.prepare('INSERT INTO consents (participant_id, at, hash, purposes) VALUES (?,?,?,?)'),
    inputHasN: db.prepare('SELECT 1 AS x FROM inputs WHERE space_id = ? AND n = ?'),
    clearLatest: db.prepare('UPDATE participants SET v = NULL, a = NULL, c = NULL, src = NULL, at = NULL, sealed = NULL WHERE id = ?'),
    insertEvent: db.prepare('INSERT INTO events (space_id, n, at, kind, participant_id, body) VALUES (?,?,?,?,?,?)'),
    eventHasN: db.prepare('SELECT 1 AS x FROM events WHERE space_id = ? AND n = ?'),
    insertStory: db.prepare('INSERT INTO stories (id, space_id, participant_id, text, name, v, a, c, flags, status, reason, created_at, decided_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)'),
    participantSpace: db.prepare('SELECT space_id FROM participants WHERE id = ?'),
    storyStatus: db.prepare('UPDATE stories SET status = ?, reason = ?, decided_at = ? WHERE id = ?'),
    eraseStory: db.prepare('DELETE FROM stories WHERE id = ?'),
    storySettings: db.prepare('INSERT INTO story_settings (space_id, enabled, moderation, at) VALUES (?,?,?,?) ON CONFLICT (space_id) DO UPDATE SET enabled = excluded.enabled, moderation = excluded.moderation, at = excluded.at'),
    insertRelease: db.prepare('INSERT INTO privacy_releases (space_id, n, at, what, params, rho_micro, body) VALUES (?,?,?,?,?,?,?)'),
    insertSecret: db.prepare('INSERT OR IGNORE INTO space_secrets (space_id, noise_seed) VALUES (?,?)'),
    insertPulse: db.prepare('INSERT INTO pulse_points (space_id, at, count, v, a, sv, sa, q0, q1, q2, q3) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    putFeedSetting: db.prepare('INSERT INTO feed_settings (space_id, kind, vals, at) VALUES (?,?,?,?) ON CONFLICT (space_id, kind) DO UPDATE SET vals = excluded.vals, at = excluded.at'),
    deleteFeedSetting: db.prepare('DELETE FROM feed_settings WHERE space_id = ? AND kind = ?'),
    insertWebhook: db.prepare('INSERT INTO webhooks (id, space_id, url, events, created_at) VALUES (?,?,?,?,?)'),
    deleteWebhook: db.prepare('DELETE FROM webhooks WHERE id = ?'),
    insertDelivery: db.prepare('INSERT INTO webhook_deliveries (space_id, delivery, webhook, event, type, attempt, at, status, outcome, error, next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)'),
    // Keeps the newest `keep` rows of a space (rowid is append order).
    trimDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE space_id = ? AND rowid <= coalesce((SELECT rowid FROM webhook_deliveries WHERE space_id = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?), -1)'),
  };
}

/** Whether a call runs at most one modifying statement (so it needs no savepoint). */
function isSingle(c: WriteCall): boolean {
  switch (c.op) {
    case 'appendInputs':
    case 'eraseParticipant':
    case 'purgeSpace':
      return false;
    case 'appendEvents':
    case 'appendPulsePoints':
      return c.rows.length <= 1;
    case 'appendWebhookDeliveries':
      return false;
    default:
      return true;
  }
}

/** Options of a {@link SqliteWriter}. */
export interface SqliteWriterOptions {
  /**
   * Write runs of `appendInputs` calls set-based (default true); false writes every input with
   * its own statements, call by call — the path a run falls back to, kept as the baseline of
   * `npm run bench:durable` (target `sqlite-rows`) and the model the set-based path is tested against.
   */
  readonly setBased?: boolean;
}

/** Applies groups of write calls on one connection (whose schema is already migrated). */
export class SqliteWriter {
  readonly #db: DatabaseSync;
  readonly #st: ReturnType<typeof prepareWrites>;
  readonly #setBased: boolean;
  /** Input runs written set-based, and runs that went call by call (a call failed; for tests). */
  setRuns = 0;
  fallbacks = 0;

  constructor(db: DatabaseSync, options: SqliteWriterOptions = {}) {
    this.#db = db;
    this.#st = prepareWrites(db);
    this.#setBased = options.setBased ?? true;
  }

  /** Applies `calls` in order in one transaction and commits; see {@link GroupOutcome}. */
  commit(calls: readonly WriteCall[]): GroupOutcome {
    const values: unknown[] = new Array(calls.length);
    const failures: [number, unknown][] = [];
    try {
      this.#st.begin.run();
      for (let k = 0; k < calls.length; k++) {
        const c = calls[k] as WriteCall;
        if (this.#setBased && c.op === 'appendInputs') {
          let end = k + 1;
          while (end < calls.length && (calls[end] as WriteCall).op === 'appendInputs') end++;
          this.#inputRun(calls, k, end, failures);
          k = end - 1;
          continue;
        }
        try {
          values[k] = isSingle(c) ? this.#apply(c) : this.#applyInSavepoint(c);
        } catch (error) {
          // SQLite undid the failing statement (or we rolled back to the savepoint) — unless the
          // error ended the transaction (e.g. SQLITE_FULL), in which case the whole group fails.
          if (!this.#db.isTransaction) throw error;
          failures.push([k, error]);
        }
      }
      this.#st.commit.run();
      return { committed: true, values, failures, groupError: null };
    } catch (groupError) {
      // BEGIN or COMMIT failed, or an error ended the transaction: nothing of the group is durable.
      if (this.#db.isTransaction) {
        try {
          this.#st.rollback.run();
        } catch {
          /* already rolled back */
        }
      }
      return { committed: false, values, failures, groupError };
    }
  }

  /**
   * Calls `from` … `end - 1` (all `appendInputs`), set-based (see the header); a failing call's
   * error goes to `failures`. Throws only what ends the transaction.
   */
  #inputRun(calls: readonly WriteCall[], from: number, end: number, failures: [number, unknown][]): void {
    const st = this.#st;
    const runs = calls.slice(from, end) as Extract<WriteCall, { op: 'appendInputs' }>[];
    // The participants the run names, and the event numbers its inputs would take, per space.
    const ids = new Set<string>();
    const ns = new Map<string, number[]>();
    for (const c of runs)
      for (const r of c.rows) {
        ids.add(r[1]);
        const n = r[11];
        if (n !== null && Number.isSafeInteger(n) && n >= 1) {
          const list = ns.get(r[0]);
          if (list) list.push(n);
          else ns.set(r[0], [n]);
        }
      }
    const known = new Map<string, { readonly spaceId: string; lastSeq: number }>();
    for (const r of st.participantsIn.all(JSON.stringify([...ids])) as { id: string; space_id: string; last_seq: number }[]) known.set(String(r.id), { spaceId: String(r.space_id), lastSeq: Number(r.last_seq) });
    const taken = new Set<string>();
    for (const [spaceId, list] of ns) for (const r of st.eventsIn.all(spaceId, JSON.stringify(list)) as { n: number }[]) taken.add(`${spaceId}\u0000${Number(r.n)}`);
    // Decide every call as the call-by-call path would. A call that would fail sends the whole
    // run call by call: only that path knows which of a call's rows fails first, and so which
    // error the call rejects with (failing calls are bugs, S8: rare).
    const accepted: InputRow[] = [];
    const latest = new Map<string, InputRow>();
    let clean = true;
    decide: for (const c of runs)
      for (const r of c.rows) {
        const [spaceId, participantId, seq, , , , , , , , , n] = r;
        const p = known.get(participantId);
        if (!p || p.spaceId !== spaceId) {
          clean = false;
          break decide;
        }
        if (seq <= p.lastSeq) continue;
        if (n !== null && (!Number.isSafeInteger(n) || n < 1 || taken.has(`${spaceId}\u0000${n}`))) {
          clean = false;
          break decide;
        }
        p.lastSeq = seq;
        accepted.push(r);
        latest.set(participantId, r);
      }
    if (clean) {
      st.savepoint.run();
      try {
        for (const r of accepted) st.insertInput.run(...(r as readonly SQLInputValue[]));
        for (const r of latest.values()) st.updateLatest.run(r[2], r[3], r[4], r[5], r[6], r[7], r[13], r[1]);
        st.release.run();
        this.setRuns++;
        return;
      } catch (error) {
        if (!this.#db.isTransaction) throw error;
        // A statement raised (an n another input holds, caught by the unique index): undo the run.
        st.rollbackTo.run();
        st.release.run();
      }
    }
    this.fallbacks++;
    for (let k = from; k < end; k++) {
      try {
        this.#applyInSavepoint(calls[k] as WriteCall);
      } catch (e) {
        if (!this.#db.isTransaction) throw e;
        failures.push([k, e]);
      }
    }
  }

  #applyInSavepoint(c: WriteCall): unknown {
    this.#st.savepoint.run();
    try {
      const value = this.#apply(c);
      this.#st.release.run();
      return value;
    } catch (error) {
      if (this.#db.isTransaction) {
        this.#st.rollbackTo.run();
        this.#st.release.run();
      }
      throw error;
    }
  }

  #apply(c: WriteCall): unknown {
    const st = this.#st;
    switch (c.op) {
      case 'createSpace':
        return Number(st.insertSpace.run(...c.row).changes) === 1;
      case 'closeSpace':
        st.closeSpace.run(c.at, c.id);
        return undefined;
      case 'updateStewardTokenHash':
        st.stewardHash.run(c.hash, c.id);
        return undefined;
      case 'createParticipant':
        st.insertParticipant.run(...c.row);
        // The participant's sealing key (S16) commits with them, before any input sealed with it.
        if (c.key) st.insertKey.run(c.row[0], c.key);
        return undefined;
      case 'eraseParticipant': {
        const r = st.participantSpace.get(c.id) as { space_id: string } | undefined;
        if (!r) throw new Error(`unknown participant ${c.id}`);
        // The key first: whatever else a copy of this file still holds, it cannot be opened.
        st.eraseKey.run(c.id);
        const inputs = Number(st.eraseInputs.run(c.id).changes);
        st.eraseEvents.run(String(r.space_id), c.id);
        st.eraseConsents.run(c.id);
        st.eraseStories.run(c.id);
        st.eraseParticipant.run(c.id);
        return { inputs };
      }
      case 'purgeSpace': {
        const id = c.spaceId;
        if (!st.spaceExists.get(id)) throw new Error(`unknown space ${id}`);
        const inputs = st.countInputs.get(id) as { n: number; sealed: number };
        const events = st.countEvents.get(id) as { n: number; erased: number };
        const counts = {
          participants: Number((st.countParticipants.get(id) as { n: number }).n),
          inputs: Number(inputs.n),
          sealedInputs: Number(inputs.sealed),
          erased: Number(events.erased),
          consents: Number((st.countConsents.get(id) as { n: number }).n),
          stories: Number((st.countStories.get(id) as { n: number }).n),
          events: Number(events.n),
        };
        st.purgeKeys.run(id);
        st.purgeInputs.run(id);
        st.purgeEvents.run(id);
        st.purgeConsents.run(id);
        st.purgeStories.run(id);
        st.purgeParticipants.run(id);
        st.purgeSecret.run(id);
        st.markPurged.run(c.at, id);
        return counts;
      }
      case 'putKey':
        st.putKey.run(c.id, c.key, c.id);
        return undefined;
      case 'recordConsent':
        if (!st.participantLastSeq.get(c.row[0])) throw new Error(`unknown participant ${c.row[0]}`);
        st.insertConsent.run(...c.row);
        return undefined;
      case 'clearLatest':
        st.clearLatest.run(c.id);
        return undefined;
      case 'setParticipantGroup':
        if (Number(st.setGroup.run(c.group, c.id).changes) !== 1) throw new Error(`unknown participant ${c.id}`);
        return undefined;
      case 'setSpaceLink':
        if (!st.spaceExists.get(c.spaceId)) throw new Error(`unknown space ${c.spaceId}`);
        if (c.agree) st.addLink.run(c.spaceId, c.otherId, c.at);
        else st.removeLink.run(c.spaceId, c.otherId);
        return undefined;
      case 'putGovernance':
        if (!st.spaceExists.get(c.spaceId)) throw new Error(`unknown space ${c.spaceId}`);
        st.putGovernance.run(c.spaceId, c.snapshot);
        return undefined;
      case 'appendInputs':
        for (const r of c.rows) this.#writeInput(r);
        return undefined;
      case 'appendEvents':
        for (const e of c.rows) {
          checkEventNumber(e[1]);
          // The primary key rejects a duplicate among events; this rejects one held by an input.
          if (st.inputHasN.get(e[0], e[1])) throw new Error(`duplicate event number ${e[1]} in space ${e[0]}`);
          st.insertEvent.run(...e);
        }
        return undefined;
      case 'appendPulsePoints':
        for (const p of c.rows) st.insertPulse.run(...p);
        return undefined;
      case 'createStory': {
        // Checked here, not by foreign keys alone: the connection may run without them.
        if (!st.spaceExists.get(c.row[1])) throw new Error(`unknown space ${c.row[1]}`);
        const p = st.participantSpace.get(c.row[2]) as { space_id: string } | undefined;
        if (!p || String(p.space_id) !== c.row[1]) throw new Error(`unknown participant ${c.row[2]}`);
        st.insertStory.run(...c.row);
        return undefined;
      }
      case 'setStoryStatus':
        if (Number(st.storyStatus.run(c.status, c.reason, c.at, c.id).changes) !== 1) throw new Error(`unknown story ${c.id}`);
        return undefined;
      case 'eraseStory':
        st.eraseStory.run(c.id);
        return undefined;
      case 'setStorySettings':
        if (!st.spaceExists.get(c.spaceId)) throw new Error(`unknown space ${c.spaceId}`);
        st.storySettings.run(c.spaceId, c.enabled ? 1 : 0, c.moderation, c.at);
        return undefined;
      case 'setFeedSetting':
        if (!st.spaceExists.get(c.spaceId)) throw new Error(`unknown space ${c.spaceId}`);
        if (c.values === null) st.deleteFeedSetting.run(c.spaceId, c.kind);
        else st.putFeedSetting.run(c.spaceId, c.kind, c.values, c.at);
        return undefined;
      case 'addWebhook':
        // The primary key rejects a taken id; the foreign key an unknown space (checked here for a clear message).
        if (!st.spaceExists.get(c.row[1])) throw new Error(`unknown space ${c.row[1]}`);
        st.insertWebhook.run(...c.row);
        return undefined;
      case 'removeWebhook':
        st.deleteWebhook.run(c.id);
        return undefined;
      case 'appendWebhookDeliveries': {
        const touched = new Set<string>();
        for (const d of c.rows) {
          st.insertDelivery.run(...d);
          touched.add(d[0]);
        }
        for (const id of touched) st.trimDeliveries.run(id, id, Math.max(0, c.keepPerSpace));
        return undefined;
      }
      case 'setSpaceSecret':
        if (!st.spaceExists.get(c.spaceId)) throw new Error(`unknown space ${c.spaceId}`);
        st.insertSecret.run(c.spaceId, c.noiseSeed);
        return undefined;
      case 'appendPrivacyRelease':
        if (!st.spaceExists.get(c.row[0])) throw new Error(`unknown space ${c.row[0]}`);
        checkEventNumber(c.row[1]);
        st.insertRelease.run(...c.row);
        return undefined;
    }
  }

  #writeInput(i: InputRow): void {
    const [spaceId, participantId, seq, v, a, c, src, at, , , , n, , sealed] = i;
    const r = this.#st.participantLastSeq.get(participantId) as { last_seq: number; space_id: string } | undefined;
    if (!r || String(r.space_id) !== spaceId) throw new Error(`unknown participant ${participantId}`);
    if (seq <= Number(r.last_seq)) return;
    if (n !== null) {
      checkEventNumber(n);
      // Inputs and events share one numbering; the unique index covers inputs, this covers events.
      if (this.#st.eventHasN.get(spaceId, n)) throw new Error(`duplicate event number ${n} in space ${spaceId}`);
    }
    this.#st.insertInput.run(...(i as readonly SQLInputValue[]));
    this.#st.updateLatest.run(seq, v, a, c, src, at, sealed, participantId);
  }
}
