/**
 * The write side of PostgresStorage: commits one group of write calls in ONE transaction, in
 * exactly call order, each failing call rolled back alone (SPEC S3, S8, S11).
 *
 * Fast path (every group, normally the only one): consecutive calls of the same hot kind
 * (`appendInputs`, `appendEvents`, `appendPulsePoints`, `createParticipant`) are merged into one
 * set-based statement over arrays (`unnest`), and BEGIN, every statement and COMMIT are sent at
 * once on a pipelined connection (pg's `pipeline: true`): one round trip and one WAL flush per
 * group, however many calls it holds. Calls whose failure leaves no trace are decided by the
 * statement itself and need no savepoint: `createParticipant` inserts with `ON CONFLICT DO
 * NOTHING` behind an existence check of its space and reads back which rows went in;
 * `setParticipantGroup` and `setSpaceLink` report whether their row exists.
 *
 * Slow path (only when a statement raised, which the port calls a bug: an unknown participant
 * or a duplicate event number, S8): the aborted transaction rolls back (a COMMIT of an aborted
 * transaction is a ROLLBACK) and the group runs again, one call at a time, each in its own
 * savepoint, so exactly the failing calls reject and the others commit together.
 *
 * Every statement is a named prepared statement on the writer's connection (the texts are fixed:
 * rows travel as arrays): PostgreSQL parses and plans each text once per connection, and each
 * group after that sends only Bind and Execute. At the low rates of a live room a group holds one
 * or two inputs, so the parse and plan of its statements were most of the database's work.
 *
 * `batched: false`, `pipeline: false` and `prepared: false` turn the three techniques off, for
 * the benchmark that measures what each is worth (bench/durable.ts).
 */
import type { Client, QueryResult } from 'pg';
import type { ConsentRecord, FeedSettingKind, InputRecord, ParticipantRecord, PrivacyReleaseRecord, PulsePoint, SpaceEventRecord, SpaceRecord, StoryRecord, StorySettingsRecord, WebhookDeliveryRecord, WebhookRecord } from '../port.ts';

/** One write call of the Storage port, as given. */
export type PgWriteCall =
  | { readonly op: 'createSpace'; readonly space: SpaceRecord }
  | { readonly op: 'closeSpace'; readonly id: string; readonly at: number }
  | { readonly op: 'updateStewardTokenHash'; readonly id: string; readonly hash: string }
  /** `key`: the participant's new sealing key (S16, S18), put in the key store before the group is sent. */
  | { readonly op: 'createParticipant'; readonly p: ParticipantRecord; readonly key: Uint8Array }
  | { readonly op: 'clearLatest'; readonly id: string }
  | { readonly op: 'setParticipantGroup'; readonly id: string; readonly group: string | null }
  | { readonly op: 'setSpaceLink'; readonly spaceId: string; readonly otherId: string; readonly agree: boolean; readonly at: number }
  | { readonly op: 'putGovernance'; readonly spaceId: string; readonly snapshot: string }
  /**
   * `sealed[i]`: row i sealed under its participant's key (then its plain figures are stored as
   * placeholders), or null for a participant with no key (from before sealing, or unknown).
   */
  | { readonly op: 'appendInputs'; readonly rows: readonly InputRecord[]; readonly sealed: readonly (string | null)[] }
  | { readonly op: 'appendEvents'; readonly rows: readonly SpaceEventRecord[] }
  | { readonly op: 'appendPulsePoints'; readonly rows: readonly PulsePoint[] }
  | { readonly op: 'createStory'; readonly story: StoryRecord }
  | { readonly op: 'setStoryStatus'; readonly id: string; readonly status: string; readonly reason: string | null; readonly at: number }
  | { readonly op: 'eraseStory'; readonly id: string }
  | { readonly op: 'setStorySettings'; readonly spaceId: string; readonly settings: StorySettingsRecord; readonly at: number }
  | { readonly op: 'setFeedSetting'; readonly spaceId: string; readonly kind: FeedSettingKind; readonly values: readonly string[]; readonly at: number }
  | { readonly op: 'addWebhook'; readonly w: WebhookRecord }
  | { readonly op: 'removeWebhook'; readonly id: string }
  | { readonly op: 'appendWebhookDeliveries'; readonly rows: readonly WebhookDeliveryRecord[]; readonly keepPerSpace: number }
  | { readonly op: 'setSpaceSecret'; readonly spaceId: string; readonly noiseSeed: string }
  | { readonly op: 'eraseParticipant'; readonly id: string }
  | { readonly op: 'purgeSpace'; readonly spaceId: string; readonly at: number }
  | { readonly op: 'recordConsent'; readonly c: ConsentRecord }
  | { readonly op: 'appendPrivacyRelease'; readonly r: PrivacyReleaseRecord };

/** What became of a group (as SqliteWriter's GroupOutcome). */
export interface PgGroupOutcome {
  /** The COMMIT returned: every call not in `failures` is durable. Otherwise nothing is. */
  readonly committed: boolean;
  readonly values: readonly unknown[];
  readonly failures: ReadonlyMap<number, unknown>;
  readonly groupError: unknown;
  /** Whether the group needed the one-savepoint-per-call path. */
  readonly slow: boolean;
}

/** Throws unless `n` is a valid event number (a positive safe integer; numbering starts at 1). */
function checkEventNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`event number must be a positive integer, got ${n}`);
}

/** A call that fails before any SQL runs (a malformed event number is a bug, S8), or null. */
function precheck(c: PgWriteCall): Error | null {
  try {
    if (c.op === 'appendEvents') for (const e of c.rows) checkEventNumber(e.n);
    if (c.op === 'appendInputs') for (const i of c.rows) if (i.n !== undefined) checkEventNumber(i.n);
    if (c.op === 'appendPrivacyRelease' && (!Number.isSafeInteger(c.r.n) || c.r.n < 1)) throw new RangeError(`release number must be a positive integer, got ${c.r.n}`);
    return null;
  } catch (e) {
    return e as Error;
  }
}

/** A statement covering calls `calls` (indices into the group), and how to read its result. */
interface Step {
  readonly calls: readonly number[];
  readonly text: string;
  readonly values: readonly unknown[];
  /** Per call of the step: its value, or an Error when the call failed without a trace. */
  readonly read: (r: QueryResult) => readonly unknown[];
}

const MERGEABLE = new Set<PgWriteCall['op']>(['appendInputs', 'appendEvents', 'appendPulsePoints', 'createParticipant']);

const same = (calls: readonly number[]) => (_r: QueryResult) => calls.map(() => undefined);

/** The statement for calls `ks` of `group`, all of one op (more than one only for MERGEABLE ops). */
function stepOf(group: readonly PgWriteCall[], ks: readonly number[]): Step {
  const first = group[ks[0] as number] as PgWriteCall;
  switch (first.op) {
    case 'createSpace': {
      const s = first.space;
      return {
        calls: ks,
        // ON CONFLICT DO NOTHING without a target skips a clash on the id or the code alike (S1).
        text: 'INSERT INTO spaces (id, code, name, status, capacity, ttl_ms, steward_token_hash, created_at, closed_at, groups, retention_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING',
        values: [s.id, s.code, s.name, s.status, s.capacity, s.ttlMs, s.stewardTokenHash, s.createdAt, s.closedAt, s.groups?.length ? JSON.stringify(s.groups) : null, s.retentionMs ?? null],
        read: (r) => [r.rowCount === 1],
      };
    }
    case 'closeSpace':
      return { calls: ks, text: "UPDATE spaces SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'", values: [first.at, first.id], read: same(ks) };
    case 'updateStewardTokenHash':
      return { calls: ks, text: 'UPDATE spaces SET steward_token_hash = $1 WHERE id = $2', values: [first.hash, first.id], read: same(ks) };
    case 'clearLatest':
      return { calls: ks, text: 'UPDATE participants SET v = NULL, a = NULL, c = NULL, src = NULL, at = NULL, sealed = NULL WHERE id = $1', values: [first.id], read: same(ks) };
    case 'setParticipantGroup': {
      const id = first.id;
      return { calls: ks, text: 'UPDATE participants SET grp = $1 WHERE id = $2', values: [first.group, id], read: (r) => [r.rowCount === 1 ? undefined : new Error(`unknown participant ${id}`)] };
    }
    // Stories (SPEC ST13): each statement decides its own failure, leaving no trace, like setSpaceLink.
    case 'createStory': {
      const st = first.story;
      return {
        calls: ks,
        text: `WITH ok AS (SELECT 1 FROM participants WHERE id = $3 AND space_id = $2),
          ins AS (INSERT INTO stories (id, space_id, participant_id, text, name, v, a, c, flags, status, reason, created_at, decided_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM ok ON CONFLICT (id) DO NOTHING RETURNING 1)
          SELECT (SELECT count(*) FROM ok)::int AS known, (SELECT count(*) FROM ins)::int AS inserted`,
        values: [st.id, st.spaceId, st.participantId, st.text, st.name, st.valence, st.arousal, st.confidence, JSON.stringify(st.flags), st.status, st.reason, st.createdAt, st.decidedAt],
        read: (r) => {
          const row = r.rows[0] as { known: number; inserted: number } | undefined;
          if (!row?.known) return [new Error(`unknown participant ${st.participantId} of space ${st.spaceId}`)];
          return [row.inserted === 1 ? undefined : new Error(`duplicate story ${st.id}`)];
        },
      };
    }
    case 'setStoryStatus': {
      const id = first.id;
      return { calls: ks, text: 'UPDATE stories SET status = $1, reason = $2, decided_at = $3 WHERE id = $4', values: [first.status, first.reason, first.at, id], read: (r) => [r.rowCount === 1 ? undefined : new Error(`unknown story ${id}`)] };
    }
    case 'eraseStory':
      return { calls: ks, text: 'DELETE FROM stories WHERE id = $1', values: [first.id], read: same(ks) };
    case 'setStorySettings': {
      const c = first;
      return {
        calls: ks,
        text: `WITH s AS (SELECT id FROM spaces WHERE id = $1),
          u AS (INSERT INTO story_settings (space_id, enabled, moderation, at) SELECT id, $2, $3, $4 FROM s
            ON CONFLICT (space_id) DO UPDATE SET enabled = excluded.enabled, moderation = excluded.moderation, at = excluded.at)
          SELECT count(*)::int AS n FROM s`,
        values: [c.spaceId, c.settings.enabled, c.settings.moderation, c.at],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown space ${c.spaceId}`)],
      };
    }
    case 'setSpaceLink': {
      const c = first;
      // Both forms report whether the space exists and change nothing when it does not.
      const text = c.agree
        ? 'WITH s AS (SELECT id FROM spaces WHERE id = $1), i AS (INSERT INTO space_links (space_id, other_id, at) SELECT id, $2, $3 FROM s ON CONFLICT DO NOTHING) SELECT count(*)::int AS n FROM s'
        : 'WITH s AS (SELECT id FROM spaces WHERE id = $1), d AS (DELETE FROM space_links WHERE space_id IN (SELECT id FROM s) AND other_id = $2) SELECT count(*)::int AS n FROM s';
      return {
        calls: ks,
        text,
        values: c.agree ? [c.spaceId, c.otherId, c.at] : [c.spaceId, c.otherId],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown space ${c.spaceId}`)],
      };
    }
    case 'putGovernance': {
      const c = first;
      // Reports whether the space exists and changes nothing when it does not (no savepoint needed).
      return {
        calls: ks,
        text: 'WITH s AS (SELECT id FROM spaces WHERE id = $1), u AS (INSERT INTO governance (space_id, snapshot) SELECT id, $2 FROM s ON CONFLICT (space_id) DO UPDATE SET snapshot = excluded.snapshot) SELECT count(*)::int AS n FROM s',
        values: [c.spaceId, c.snapshot],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown space ${c.spaceId}`)],
      };
    }
    case 'eraseParticipant': {
      const id = first.id;
      // One statement: every trace of the participant, and whether they existed. Their key went
      // first, from the key store (S18), before this group was sent.
      return {
        calls: ks,
        text: `WITH p AS (SELECT id, space_id FROM participants WHERE id = $1),
  i AS (DELETE FROM inputs WHERE participant_id IN (SELECT id FROM p) RETURNING 1),
  e AS (DELETE FROM events WHERE space_id IN (SELECT space_id FROM p) AND participant_id IN (SELECT id FROM p)),
  c AS (DELETE FROM consents WHERE participant_id IN (SELECT id FROM p)),
  st AS (DELETE FROM stories WHERE participant_id IN (SELECT id FROM p)),
  d AS (DELETE FROM participants WHERE id IN (SELECT id FROM p))
SELECT (SELECT count(*) FROM p)::int AS p, (SELECT count(*) FROM i)::int AS i`,
        values: [id],
        read: (r) => {
          const row = r.rows[0] as { p: number; i: number } | undefined;
          return [row?.p === 1 ? { inputs: row.i } : new Error(`unknown participant ${id}`)];
        },
      };
    }
    case 'purgeSpace': {
      const id = first.spaceId;
      // One statement (S17): what is deleted, counted from the same snapshot, and whether the
      // space exists. Its participants' keys went first, from the key store (S18).
      return {
        calls: ks,
        text: `WITH s AS (SELECT id FROM spaces WHERE id = $1),
  pp AS (SELECT id FROM participants WHERE space_id IN (SELECT id FROM s)),
  i AS (DELETE FROM inputs WHERE space_id IN (SELECT id FROM s) RETURNING sealed),
  e AS (DELETE FROM events WHERE space_id IN (SELECT id FROM s) RETURNING kind),
  c AS (DELETE FROM consents WHERE participant_id IN (SELECT id FROM pp) RETURNING 1),
  st AS (DELETE FROM stories WHERE space_id IN (SELECT id FROM s) RETURNING 1),
  d AS (DELETE FROM participants WHERE id IN (SELECT id FROM pp)),
  sec AS (DELETE FROM space_secrets WHERE space_id IN (SELECT id FROM s)),
  m AS (UPDATE spaces SET purged_at = coalesce(purged_at, $2) WHERE id IN (SELECT id FROM s))
SELECT (SELECT count(*) FROM s)::int AS s, (SELECT count(*) FROM pp)::int AS participants,
  (SELECT count(*) FROM i)::int AS inputs, (SELECT count(sealed) FROM i)::int AS sealed,
  (SELECT count(*) FROM e)::int AS events, (SELECT count(*) FROM e WHERE kind = 'erased')::int AS erased,
  (SELECT count(*) FROM c)::int AS consents, (SELECT count(*) FROM st)::int AS stories`,
        values: [id, first.at],
        read: (r) => {
          const row = r.rows[0] as { s: number; participants: number; inputs: number; sealed: number; events: number; erased: number; consents: number; stories: number } | undefined;
          if (row?.s !== 1) return [new Error(`unknown space ${id}`)];
          return [{ participants: row.participants, inputs: row.inputs, sealedInputs: row.sealed, erased: row.erased, consents: row.consents, stories: row.stories, events: row.events }];
        },
      };
    }
    case 'recordConsent': {
      const c = first.c;
      return {
        calls: ks,
        text: 'WITH p AS (SELECT id FROM participants WHERE id = $1), i AS (INSERT INTO consents (participant_id, at, hash, purposes) SELECT id, $2, $3, $4 FROM p) SELECT count(*)::int AS n FROM p',
        values: [c.participantId, c.at, c.hash, JSON.stringify(c.purposes)],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown participant ${c.participantId}`)],
      };
    }
    case 'setSpaceSecret': {
      const c = first;
      // The first seed stays (S15): a second call changes nothing; an unknown space is reported.
      return {
        calls: ks,
        text: 'WITH s AS (SELECT id FROM spaces WHERE id = $1), i AS (INSERT INTO space_secrets (space_id, noise_seed) SELECT id, $2 FROM s ON CONFLICT DO NOTHING) SELECT count(*)::int AS n FROM s',
        values: [c.spaceId, c.noiseSeed],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown space ${c.spaceId}`)],
      };
    }
    case 'appendPrivacyRelease': {
      const r0 = first.r;
      return {
        calls: ks,
        text: 'WITH s AS (SELECT id FROM spaces WHERE id = $1), i AS (INSERT INTO privacy_releases (space_id, n, at, what, params, rho_micro, body) SELECT id, $2, $3, $4, $5, $6, $7 FROM s ON CONFLICT DO NOTHING RETURNING 1) SELECT (SELECT count(*) FROM s)::int AS s, (SELECT count(*) FROM i)::int AS i',
        values: [r0.spaceId, r0.n, r0.at, r0.what, r0.params, r0.rhoMicro, r0.body],
        read: (r) => {
          const row = r.rows[0] as { s: number; i: number } | undefined;
          if (row?.s !== 1) return [new Error(`unknown space ${r0.spaceId}`)];
          return [row.i === 1 ? undefined : new Error(`duplicate release number ${r0.n} in space ${r0.spaceId}`)];
        },
      };
    }
    case 'createParticipant': {
      const ps = ks.map((k) => (group[k] as Extract<PgWriteCall, { op: 'createParticipant' }>).p);
      const col = <T>(f: (p: ParticipantRecord) => T) => ps.map(f);
      return {
        calls: ks,
        // In call order; a row clashing on its id or token (with a stored row or an earlier one of
        // the run), or of an unknown space, is skipped and reported, the others go in.
        // Their keys are in the key store already (S18): PostgresStorage puts them there first.
        text: `INSERT INTO participants (id, space_id, token_hash, joined_at, last_seq, v, a, c, src, at, grp)
SELECT r.id, r.space_id, r.token_hash, r.joined_at, r.last_seq, r.v, r.a, r.c, r.src, r.at, r.grp
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::bigint[], $11::text[])
  WITH ORDINALITY AS r(id, space_id, token_hash, joined_at, last_seq, v, a, c, src, at, grp, ord)
WHERE EXISTS (SELECT 1 FROM spaces s WHERE s.id = r.space_id)
ORDER BY r.ord
ON CONFLICT DO NOTHING
RETURNING id, token_hash`,
        values: [
          col((p) => p.id),
          col((p) => p.spaceId),
          col((p) => p.tokenHash),
          col((p) => p.joinedAt),
          col((p) => p.lastSeq),
          col((p) => p.latest?.valence ?? null),
          col((p) => p.latest?.arousal ?? null),
          col((p) => p.latest?.confidence ?? null),
          col((p) => p.latest?.source ?? null),
          col((p) => p.latest?.at ?? null),
          col((p) => p.group ?? null),
        ],
        read: (r) => {
          // (id, token) identifies the row that went in: the first of the run with that pair
          // (a later identical one clashed with it).
          const inserted = new Map<string, number>();
          for (const row of r.rows as { id: string; token_hash: string }[]) {
            const key = `${row.id}\u0000${row.token_hash}`;
            inserted.set(key, (inserted.get(key) ?? 0) + 1);
          }
          return ps.map((p) => {
            const key = `${p.id}\u0000${p.tokenHash}`;
            const left = inserted.get(key) ?? 0;
            if (left > 0) {
              inserted.set(key, left - 1);
              return undefined;
            }
            return new Error(`participant ${p.id} exists, or its token does, or space ${p.spaceId} does not`);
          });
        },
      };
    }
    case 'appendInputs': {
      const calls = ks.map((k) => group[k] as Extract<PgWriteCall, { op: 'appendInputs' }>);
      const rows = calls.flatMap((c) => c.rows.map((row, j) => ({ row, sealed: c.sealed[j] ?? null })));
      // Sealed rows keep only time, exposure, seq and n in the clear (as SQLite, S16).
      const col = <T>(f: (i: InputRecord) => T, placeholder: T) => rows.map(({ row, sealed }) => (sealed === null ? f(row) : placeholder));
      return {
        calls: ks,
        text: 'SELECT attune_append_inputs($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::text[], $8::bigint[], $9::boolean[], $10::float8[], $11::float8[], $12::bigint[], $13::float8[], $14::text[])',
        values: [
          rows.map(({ row }) => row.spaceId),
          rows.map(({ row }) => row.participantId),
          rows.map(({ row }) => row.seq),
          col((i) => i.affect.valence, 0),
          col((i) => i.affect.arousal, 0),
          col((i) => i.affect.confidence, 0),
          col((i): string => i.affect.source, 'sealed'),
          rows.map(({ row }) => row.affect.at),
          rows.map(({ row }) => row.exposed),
          col((i) => i.shown?.valence ?? null, null),
          col((i) => i.shown?.arousal ?? null, null),
          rows.map(({ row }) => row.n ?? null),
          col((i) => i.heartBpm ?? null, null),
          rows.map(({ sealed }) => sealed),
        ],
        read: same(ks),
      };
    }
    case 'appendEvents': {
      const rows = ks.flatMap((k) => (group[k] as Extract<PgWriteCall, { op: 'appendEvents' }>).rows);
      const col = <T>(f: (e: SpaceEventRecord) => T) => rows.map(f);
      return {
        calls: ks,
        text: 'SELECT attune_append_events($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])',
        values: [col((e) => e.spaceId), col((e) => e.n), col((e) => e.at), col((e) => e.kind), col((e) => e.participantId), col((e) => e.body)],
        read: same(ks),
      };
    }
    case 'appendPulsePoints': {
      const rows = ks.flatMap((k) => (group[k] as Extract<PgWriteCall, { op: 'appendPulsePoints' }>).rows);
      const col = <T>(f: (p: PulsePoint) => T) => rows.map(f);
      return {
        calls: ks,
        text: `INSERT INTO pulse_points (space_id, at, count, v, a, sv, sa, q0, q1, q2, q3)
SELECT space_id, at, count, v, a, sv, sa, q0, q1, q2, q3
FROM unnest($1::text[], $2::bigint[], $3::int[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[])
  WITH ORDINALITY AS r(space_id, at, count, v, a, sv, sa, q0, q1, q2, q3, ord)
ORDER BY ord`,
        values: [
          col((p) => p.spaceId),
          col((p) => p.at),
          col((p) => p.count),
          col((p) => p.valence),
          col((p) => p.arousal),
          col((p) => p.spreadValence),
          col((p) => p.spreadArousal),
          col((p) => p.quadrants[0]),
          col((p) => p.quadrants[1]),
          col((p) => p.quadrants[2]),
          col((p) => p.quadrants[3]),
        ],
        read: same(ks),
      };
    }
    case 'setFeedSetting': {
      const c = first;
      // Both forms report whether the space exists and change nothing when it does not (S13).
      const text =
        c.values.length > 0
          ? 'WITH s AS (SELECT id FROM spaces WHERE id = $1), u AS (INSERT INTO feed_settings (space_id, kind, vals, at) SELECT id, $2, $3, $4 FROM s ON CONFLICT (space_id, kind) DO UPDATE SET vals = excluded.vals, at = excluded.at) SELECT count(*)::int AS n FROM s'
          : 'WITH s AS (SELECT id FROM spaces WHERE id = $1), d AS (DELETE FROM feed_settings WHERE space_id IN (SELECT id FROM s) AND kind = $2) SELECT count(*)::int AS n FROM s';
      return {
        calls: ks,
        text,
        values: c.values.length > 0 ? [c.spaceId, c.kind, JSON.stringify(c.values), c.at] : [c.spaceId, c.kind],
        read: (r) => [(r.rows[0] as { n: number } | undefined)?.n === 1 ? undefined : new Error(`unknown space ${c.spaceId}`)],
      };
    }
    case 'addWebhook': {
      const w = first.w;
      return {
        calls: ks,
        // Reports an unknown space and a taken id alike without raising: nothing is stored then.
        text: 'WITH s AS (SELECT id FROM spaces WHERE id = $2), i AS (INSERT INTO webhooks (id, space_id, url, events, created_at) SELECT $1, id, $3, $4, $5 FROM s ON CONFLICT (id) DO NOTHING RETURNING id) SELECT (SELECT count(*)::int FROM s) AS s, (SELECT count(*)::int FROM i) AS i',
        values: [w.id, w.spaceId, w.url, JSON.stringify(w.events), w.createdAt],
        read: (r) => {
          const row = r.rows[0] as { s: number; i: number } | undefined;
          return [row?.s !== 1 ? new Error(`unknown space ${w.spaceId}`) : row.i !== 1 ? new Error(`webhook ${w.id} exists`) : undefined];
        },
      };
    }
    case 'removeWebhook':
      return { calls: ks, text: 'DELETE FROM webhooks WHERE id = $1', values: [first.id], read: same(ks) };
    case 'appendWebhookDeliveries': {
      const rows = first.rows;
      const col = <T>(f: (d: WebhookDeliveryRecord) => T) => rows.map(f);
      return {
        calls: ks,
        // One statement sees the table as it was before it: it inserts the newest `keep` of the
        // call's rows per space, and deletes the stored rows that those push out of the newest `keep`.
        text: `WITH r AS (
  SELECT r.*, count(*) OVER (PARTITION BY space_id) AS k, row_number() OVER (PARTITION BY space_id ORDER BY ord) AS rn
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::int[], $9::text[], $10::text[], $11::bigint[])
    WITH ORDINALITY AS r(space_id, delivery, webhook, event, type, attempt, at, status, outcome, error, next_attempt_at, ord)
), ins AS (
  INSERT INTO webhook_deliveries (space_id, delivery, webhook, event, type, attempt, at, status, outcome, error, next_attempt_at)
  SELECT space_id, delivery, webhook, event, type, attempt, at, status, outcome, error, next_attempt_at FROM r WHERE rn > k - $12 ORDER BY ord
), touched AS (SELECT DISTINCT space_id, k FROM r), old AS (
  SELECT d.id, row_number() OVER (PARTITION BY d.space_id ORDER BY d.id DESC) AS rn, t.k
  FROM webhook_deliveries d JOIN touched t ON t.space_id = d.space_id
)
DELETE FROM webhook_deliveries w USING old WHERE w.id = old.id AND old.rn + old.k > $12`,
        values: [
          col((d) => d.spaceId),
          col((d) => d.delivery),
          col((d) => d.webhook),
          col((d) => d.event),
          col((d) => d.type),
          col((d) => d.attempt),
          col((d) => d.at),
          col((d) => d.status),
          col((d) => d.outcome),
          col((d) => d.error ?? null),
          col((d) => d.nextAttemptAt ?? null),
          Math.max(0, first.keepPerSpace),
        ],
        read: same(ks),
      };
    }
  }
}

/** Settings of a {@link PostgresWriter}. */
export interface PostgresWriterOptions {
  /** Merge consecutive calls of a hot kind into one statement (default true). */
  readonly batched?: boolean;
  /** Send each statement as a named prepared statement, parsed once per connection (default true). */
  readonly prepared?: boolean;
}

/**
 * The name of each statement text the writer sends prepared: `attune_w1`, `attune_w2`, … in
 * the order first sent. The texts are the fixed ones of {@link stepOf} (no value is ever
 * spliced into one), so the map — and what each connection prepares — stays as small as that set.
 */
const STATEMENT_NAMES = new Map<string, string>();
function statementName(text: string): string {
  let name = STATEMENT_NAMES.get(text);
  if (name === undefined) {
    name = `attune_w${STATEMENT_NAMES.size + 1}`;
    STATEMENT_NAMES.set(text, name);
  }
  return name;
}

/** Commits groups on one connection (ideally created with `pipeline: true`). */
export class PostgresWriter {
  readonly #client: Client;
  readonly #batched: boolean;
  readonly #prepared: boolean;
  /** Groups that needed the slow path (for tests and metrics). */
  slowGroups = 0;
  /**
   * True while a group's statements go out one at a time (the savepoint path, or no pipelining):
   * a query queued on the connection now would run inside the open transaction.
   */
  serial = false;

  constructor(client: Client, options: PostgresWriterOptions = {}) {
    this.#client = client;
    this.#batched = options.batched ?? true;
    this.#prepared = options.prepared ?? true;
  }

  /** Sends one step's statement on `c` (named and prepared unless `prepared: false`). */
  #run(c: Client, s: Step): Promise<QueryResult> {
    const values = s.values as unknown[];
    return this.#prepared ? c.query({ name: statementName(s.text), text: s.text, values }) : c.query(s.text, values);
  }

  /** Applies `group` in order in one transaction and commits; see {@link PgGroupOutcome}. */
  async commit(group: readonly PgWriteCall[]): Promise<PgGroupOutcome> {
    const values: unknown[] = new Array(group.length).fill(undefined);
    const failures = new Map<number, unknown>();
    const live: number[] = [];
    group.forEach((c, k) => {
      const bad = precheck(c);
      if (bad) failures.set(k, bad);
      else live.push(k);
    });
    if (live.length === 0) return { committed: true, values, failures, groupError: null, slow: false };
    const steps = this.#plan(group, live);
    try {
      if (await this.#fast(steps, values, failures)) return { committed: true, values, failures, groupError: null, slow: false };
      // A statement raised: the transaction was rolled back whole. Again, call by call.
      this.slowGroups++;
      for (const k of live) {
        failures.delete(k);
        values[k] = undefined;
      }
      await this.#slow(group, live, values, failures);
      return { committed: true, values, failures, groupError: null, slow: true };
    } catch (groupError) {
      // BEGIN or COMMIT failed, or the connection broke: nothing of the group is durable (or we
      // cannot know; the caller stops writing).
      await this.#client.query('ROLLBACK').catch(() => {});
      return { committed: false, values, failures, groupError, slow: false };
    }
  }

  #plan(group: readonly PgWriteCall[], live: readonly number[]): Step[] {
    const steps: Step[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0) steps.push(stepOf(group, run));
      run = [];
    };
    for (const k of live) {
      const op = (group[k] as PgWriteCall).op;
      const prev = run.length > 0 ? (group[run[0] as number] as PgWriteCall).op : null;
      if (!this.#batched || !MERGEABLE.has(op) || op !== prev) flush();
      run.push(k);
    }
    flush();
    return steps;
  }

  /**
   * Sends BEGIN, the steps and COMMIT together (pipelined when the client is). True when all
   * committed; false when a statement raised (the COMMIT then rolled everything back).
   */
  async #fast(steps: readonly Step[], values: unknown[], failures: Map<number, unknown>): Promise<boolean> {
    const c = this.#client;
    const settle = <T>(p: Promise<T>) => p.then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e }));
    if (!(c as Client & { pipeline?: boolean }).pipeline) return this.#sequential(steps, values, failures);
    const begin = settle(c.query('BEGIN'));
    const results = steps.map((s) => settle(this.#run(c, s)));
    // Every promise is settled-wrapped at once: one that rejects while an earlier one is awaited
    // must not count as unhandled.
    const commit = settle(c.query('COMMIT'));
    const b = await begin;
    const rs = await Promise.all(results);
    const done = await commit;
    if (!b.ok) throw b.e;
    if (!done.ok) throw done.e; // COMMIT itself failed: the group fails
    if (done.r.command !== 'COMMIT' || rs.some((r) => !r.ok)) return false;
    steps.forEach((s, i) => {
      const out = s.read((rs[i] as { r: QueryResult }).r);
      s.calls.forEach((k, j) => {
        const v = out[j];
        if (v instanceof Error) failures.set(k, v);
        else values[k] = v;
      });
    });
    return true;
  }

  /** The fast path without pipelining: one round trip per statement (to measure what pipelining is worth). */
  async #sequential(steps: readonly Step[], values: unknown[], failures: Map<number, unknown>): Promise<boolean> {
    const c = this.#client;
    this.serial = true;
    try {
      return await this.#sequentialIn(c, steps, values, failures);
    } finally {
      this.serial = false;
    }
  }

  async #sequentialIn(c: Client, steps: readonly Step[], values: unknown[], failures: Map<number, unknown>): Promise<boolean> {
    await c.query('BEGIN');
    const rs: QueryResult[] = [];
    for (const s of steps) {
      try {
        rs.push(await this.#run(c, s));
      } catch {
        await c.query('ROLLBACK');
        return false;
      }
    }
    const done = await c.query('COMMIT');
    if (done.command !== 'COMMIT') return false;
    steps.forEach((s, i) => {
      const out = s.read(rs[i] as QueryResult);
      s.calls.forEach((k, j) => {
        const v = out[j];
        if (v instanceof Error) failures.set(k, v);
        else values[k] = v;
      });
    });
    return true;
  }

  /** One call at a time, each in a savepoint; a raising call rolls back alone. */
  async #slow(group: readonly PgWriteCall[], live: readonly number[], values: unknown[], failures: Map<number, unknown>): Promise<void> {
    this.serial = true;
    try {
      await this.#slowIn(group, live, values, failures);
    } finally {
      this.serial = false;
    }
  }

  async #slowIn(group: readonly PgWriteCall[], live: readonly number[], values: unknown[], failures: Map<number, unknown>): Promise<void> {
    const c = this.#client;
    const pipelined = (c as Client & { pipeline?: boolean }).pipeline === true;
    await c.query('BEGIN');
    for (const k of live) {
      const s = stepOf(group, [k]);
      const sp = c.query('SAVEPOINT one');
      if (!pipelined) await sp;
      const run = this.#run(c, s).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      await sp;
      const r = await run;
      if (r.ok) {
        await c.query('RELEASE one');
        const v = s.read(r.r)[0];
        if (v instanceof Error) failures.set(k, v);
        else values[k] = v;
      } else {
        await c.query('ROLLBACK TO one');
        await c.query('RELEASE one');
        failures.set(k, r.e);
      }
    }
    const done = await c.query('COMMIT');
    if (done.command !== 'COMMIT') throw new Error(`the group's COMMIT answered ${done.command}`);
  }
}
