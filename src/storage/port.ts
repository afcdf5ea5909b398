/**
 * The Storage ports (SPEC.md §S). Adapters: `sqlite/` (embedded default), `memory/`, and
 * `postgres/` for larger deployments. One contract suite per port runs against every adapter
 * (`test/contracts/`).
 *
 * All methods are async so that network databases fit the same port. Every write joins one
 * ordered queue that commits as a group (SPEC S3): writes apply in exactly call order, each
 * resolves only after the COMMIT that holds it, and a failing write rolls back alone. Reads see
 * every write whose promise has resolved (durable, then visible).
 */
import type { Affect } from '../core/affect.ts';

/** A stored space. */
export interface SpaceRecord {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly status: 'open' | 'closed';
  readonly capacity: number;
  readonly ttlMs: number;
  /** SHA-256 (hex) of the steward token; the token itself is never stored. */
  readonly stewardTokenHash: string;
  readonly createdAt: number;
  readonly closedAt: number | null;
  /** The space's declared groups (R6; public, like the name), when it has any. */
  readonly groups?: readonly string[];
  /**
   * How long raw data about people is kept after the space closes, ms (SPEC V3): fixed when the
   * space is created (the request, its template or the server's `--retention`). Absent on spaces
   * created before retention: the server's setting applies.
   */
  readonly retentionMs?: number;
  /** When retention deleted the space's raw data (SPEC S17), or null/absent while it is kept. */
  readonly purgedAt?: number | null;
}

/** A stored participant session (no identity: an opaque id and a hashed resume token). */
export interface ParticipantRecord {
  readonly id: string;
  readonly spaceId: string;
  /** What is kept of the resume token: its SHA-256 hex, after its time prefix for tokens of S19 (src/space/tokens.ts: participantTokenKey). */
  readonly tokenHash: string;
  readonly joinedAt: number;
  readonly lastSeq: number;
  /** The latest accepted affect, if any. */
  readonly latest: Affect | null;
  /** The group the participant chose (personal data, never published; R6), if any. */
  readonly group?: string | null;
}

/** One accepted input, as appended. */
export interface InputRecord {
  readonly spaceId: string;
  readonly participantId: string;
  readonly seq: number;
  /**
   * The space machine's event number of this input (shared numbering with
   * {@link SpaceEventRecord.n}); absent on rows written before events were recorded (SPEC S7).
   */
  readonly n?: number;
  readonly affect: Affect;
  /** Whether the participant had been shown the pulse recently (contagion exposure). */
  readonly exposed: boolean;
  /** The crowd mean the pulse showed when the input arrived (null while suppressed). */
  readonly shown: { readonly valence: number; readonly arousal: number } | null;
  /**
   * A heart input's heart rate (bpm, W5a) — the room's heart synchrony needs it, and replay
   * needs what the machine was given. Absent on other inputs.
   */
  readonly heartBpm?: number;
}

/** One recorded machine event of a space; inputs are recorded in `inputs` with their `n` instead. */
export interface SpaceEventRecord {
  readonly spaceId: string;
  /** Per-space event number, strictly increasing in the order the space machine stepped its events (shared numbering with InputRecord.n). */
  readonly n: number;
  /** Epoch ms. */
  readonly at: number;
  /** e.g. 'started' | 'joined' | 'resumed' | 'left' | 'disconnected' | 'act' | 'tick'. */
  readonly kind: string;
  readonly participantId: string | null;
  /** Small kind-specific JSON text, or null. */
  readonly body: string | null;
}

/** One point of a space's pulse time series (aggregates only). */
export interface PulsePoint {
  readonly spaceId: string;
  readonly at: number;
  readonly count: number;
  readonly valence: number;
  readonly arousal: number;
  readonly spreadValence: number;
  readonly spreadArousal: number;
  /** Shares in QUADRANTS order. */
  readonly quadrants: readonly [number, number, number, number];
}

/** A participant's story (SPEC ST13): personal data, deleted outright when its author withdraws it. */
export interface StoryRecord {
  readonly id: string;
  readonly spaceId: string;
  /** The author (never published; the author alone sees their stories' states). */
  readonly participantId: string;
  /** The text as checked (core/stories/storyText.ts): stored verbatim, shown only as inert text. */
  readonly text: string;
  /** The pseudonym chosen by the author, or null (anonymous). */
  readonly name: string | null;
  /** The text analyser's affect of the story. */
  readonly valence: number;
  readonly arousal: number;
  readonly confidence: number;
  /** The automatic first pass's flags (e.g. `profanity:…`). */
  readonly flags: readonly string[];
  readonly status: 'waiting' | 'shown' | 'declined' | 'hidden';
  /** The decline reason category, when declined. */
  readonly reason: string | null;
  readonly createdAt: number;
  /** When the last decision about it was applied, or null. */
  readonly decidedAt: number | null;
}

/** A space's story settings (SPEC ST1). */
export interface StorySettingsRecord {
  readonly enabled: boolean;
  readonly moderation: 'pre' | 'post';
}

/** A per-space feed setting (SPEC S13, §F): the steward's OSC targets, or the display's frame-ancestors allow-list. */
export type FeedSettingKind = 'osc-targets' | 'frame-ancestors';

/** A space's feed setting: a list of strings (OSC targets as `HOST:PORT`, or origins). */
export interface FeedSettingRecord {
  readonly spaceId: string;
  readonly kind: FeedSettingKind;
  /** Never empty: an empty list is no setting. */
  readonly values: readonly string[];
  readonly at: number;
}

/**
 * A webhook subscription (SPEC S13, F3). It holds no secret: the server derives each signing
 * secret from its own feed key and the subscription's id, so a copy of the database alone signs
 * nothing.
 */
export interface WebhookRecord {
  readonly id: string;
  readonly spaceId: string;
  readonly url: string;
  /** The kinds of event it wants (`alert`, `decision`, `display.mode`). */
  readonly events: readonly string[];
  readonly createdAt: number;
}

/** One attempt of a webhook delivery, as the steward's delivery log shows it (F3). */
export interface WebhookDeliveryRecord {
  readonly spaceId: string;
  readonly delivery: string;
  readonly webhook: string;
  readonly event: string;
  readonly type: string;
  readonly attempt: number;
  readonly at: number;
  /** HTTP status, or null on a network error or timeout. */
  readonly status: number | null;
  readonly outcome: 'delivered' | 'retrying' | 'failed';
  readonly error?: string;
  readonly nextAttemptAt?: number;
}

/** A participant's consent (SPEC V1): which consent text (its SHA-256), when, for what. */
export interface ConsentRecord {
  readonly participantId: string;
  readonly at: number;
  /** SHA-256 (hex) of the consent text agreed to (src/core/consent.ts). */
  readonly hash: string;
  readonly purposes: readonly string[];
}

/** One differentially private release from a space's stored inputs (SPEC R8, S15). */
export interface PrivacyReleaseRecord {
  readonly spaceId: string;
  /** Per-space release number, 1, 2, … (the noise nonce). */
  readonly n: number;
  readonly at: number;
  /** What was released, e.g. 'series'. */
  readonly what: string;
  /** The query, as JSON text. */
  readonly params: string;
  /** ρ spent, in micro-ρ (an integer). */
  readonly rhoMicro: number;
  /** The released figures, as JSON text (a release is published: returned again, never recomputed). */
  readonly body: string;
}

/**
 * What is stored about the people of one space (SPEC S17): what `attune privacy report` prints
 * and what a `retention.run` deletes (counts only, never contents).
 */
export interface StoredCounts {
  /** Participant sessions (rows) still stored. */
  readonly participants: number;
  /** Inputs stored, of which `sealedInputs` are sealed under a participant's key (S16). */
  readonly inputs: number;
  readonly sealedInputs: number;
  /** Participants who erased themselves (V2), as counted by the space's recorded `erased` events. */
  readonly erased: number;
  readonly consents: number;
  readonly stories: number;
  /** Recorded machine events (S7). */
  readonly events: number;
}

/**
 * The space/participant/input/event store (SPEC §S). Writes: `createSpace`, `closeSpace`,
 * `updateStewardTokenHash`, `createParticipant`, `appendInputs`, `appendEvents`, `clearLatest`,
 * `setParticipantGroup`, `setSpaceLink`, `appendPulsePoints`, `createStory`, `setStoryStatus`,
 * `eraseStory`, `setStorySettings`, and the feed settings' `setFeedSetting`, `addWebhook`,
 * `removeWebhook`, `appendWebhookDeliveries` — all ordered and group-committed (S3).
 */
export interface Storage {
  /** Creates a space; fails with CONFLICT semantics (returns false) if the id or code is taken. */
  createSpace(space: SpaceRecord): Promise<boolean>;
  getSpaceByCode(code: string): Promise<SpaceRecord | null>;
  getSpace(id: string): Promise<SpaceRecord | null>;
  listSpaces(): Promise<SpaceRecord[]>;
  closeSpace(id: string, at: number): Promise<void>;
  updateStewardTokenHash(id: string, hash: string): Promise<void>;

  createParticipant(p: ParticipantRecord): Promise<void>;
  getParticipantByTokenHash(tokenHash: string): Promise<ParticipantRecord | null>;
  /** Participants of a space whose latest input is at or after `since` (for restart recovery). */
  listActiveParticipants(spaceId: string, since: number): Promise<ParticipantRecord[]>;
  countParticipants(spaceId: string): Promise<number>;

  /**
   * Appends inputs durably and updates each participant's latest state and lastSeq.
   * Resolves only when the inputs are durable. Inputs with a seq ≤ the stored lastSeq are
   * ignored (idempotent retries). Rejects, storing none of the call's inputs, for an unknown
   * participant or an `n` already stored (SPEC S8).
   */
  appendInputs(inputs: readonly InputRecord[]): Promise<void>;
  /** Inputs of a space in [from, to), oldest first, at most `limit`. */
  listInputs(spaceId: string, from: number, to: number, limit: number): Promise<InputRecord[]>;
  /** Removes a participant's point from the live state (leaving keeps inputs until retention ends). */
  clearLatest(participantId: string): Promise<void>;
  /**
   * Sets (or, with null, clears) the group a participant chose (SPEC S10, R6): personal data,
   * read back only by restart recovery. Rejects for an unknown participant.
   */
  setParticipantGroup(participantId: string, group: string | null): Promise<void>;

  /**
   * Records that the space's steward agrees (`agree`) or no longer agrees to be linked with
   * another space (SPEC S10, H14); idempotent. Rejects for an unknown space.
   */
  setSpaceLink(spaceId: string, otherId: string, agree: boolean, at: number): Promise<void>;
  /** Ids of the spaces this space's steward currently agrees to be linked with, oldest agreement first. */
  listSpaceLinks(spaceId: string): Promise<string[]>;

  /**
   * Stores (replaces) a space's governance state — its council, members (token hashes only),
   * proposals, policies and the feedback in force — as the JSON text the space machine gives
   * (SPEC S12), so that a council survives a restart. Ordered and group-committed like every
   * write; rejects for an unknown space.
   */
  putGovernance(spaceId: string, snapshot: string): Promise<void>;
  /** The last governance state stored for a space, or null when none (SPEC S12). */
  getGovernance(spaceId: string): Promise<string | null>;

  /**
   * Appends machine events durably (resolves after the commit). (spaceId, n) is unique across
   * events and inputs: a call holding an n already stored rejects, storing none of its events,
   * and the other calls of the group commit (SPEC S8).
   */
  appendEvents(events: readonly SpaceEventRecord[]): Promise<void>;
  /** Events of a space with n ≥ `fromN`, ascending by n, at most `limit` (SPEC S7). */
  listEvents(spaceId: string, fromN: number, limit: number): Promise<SpaceEventRecord[]>;
  /** Inputs of a space with a (non-null) n ≥ `fromN`, ascending by n, at most `limit` (SPEC S7). */
  listInputsByN(spaceId: string, fromN: number, limit: number): Promise<(InputRecord & { readonly n: number })[]>;
  /**
   * The highest n stored for the space across events and inputs, or 0 when none (numbering
   * starts at 1), so that a restarted host continues the numbering (SPEC S7).
   */
  lastEventN(spaceId: string): Promise<number>;

  /**
   * Stores the space's secret noise seed (SPEC S15, R7) once: a second call keeps the first
   * seed (idempotent, so a seed once used for released noise never changes). Rejects for an
   * unknown space. The seed is never part of a SpaceRecord, so no listing can carry it out.
   */
  setSpaceSecret(spaceId: string, noiseSeed: string): Promise<void>;
  /** The space's noise seed, or null when it has none (spaces created before R7). */
  getSpaceSecret(spaceId: string): Promise<string | null>;
  /**
   * Stores a DP release (S15, R8): the ledger of the space's privacy budget is the sum of its
   * releases' ρ. Rejects, storing nothing, for an unknown space or an n already stored.
   */
  appendPrivacyRelease(r: PrivacyReleaseRecord): Promise<void>;
  /** A space's DP releases, ascending by n. */
  listPrivacyReleases(spaceId: string): Promise<PrivacyReleaseRecord[]>;

  /**
   * Erases a participant (SPEC S16, V2): their inputs, latest point, group, consents, events and
   * session (the participant row, so the resume token stops working) and their sealing key.
   * Resolves with the number of inputs deleted; rejects for an unknown participant.
   */
  eraseParticipant(participantId: string): Promise<{ readonly inputs: number }>;
  /**
   * What is stored about the people of a space (S17), counted; rejects for an unknown space.
   */
  storedCounts(spaceId: string): Promise<StoredCounts>;
  /**
   * Retention (S17, V3): deletes every raw record about the space's people — participants'
   * sealing keys first, then inputs, latest points and sessions, groups, consents, stories and
   * recorded events — and the space's noise seed (with it the released noise could be taken
   * back out), keeping the space, its released pulse series and DP releases and its governance;
   * marks the space purged at `at`. Resolves with what it deleted (`erased` is the number of
   * recorded erasures that went with the events). Idempotent; rejects for an unknown space.
   */
  purgeSpace(spaceId: string, at: number): Promise<StoredCounts>;
  /** Every stored input of one participant, by seq (their export, V2). */
  listParticipantInputs(participantId: string): Promise<InputRecord[]>;
  /** Records a participant's consent (S16). Rejects for an unknown participant. */
  recordConsent(c: ConsentRecord): Promise<void>;
  /** A participant's consents, oldest first. */
  listConsents(participantId: string): Promise<ConsentRecord[]>;

  appendPulsePoints(points: readonly PulsePoint[]): Promise<void>;
  listPulsePoints(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]>;

  /**
   * Stores a new story (SPEC ST13). Rejects, storing nothing, for an unknown space, an unknown
   * participant of that space, or an id already stored.
   */
  createStory(story: StoryRecord): Promise<void>;
  /** Sets a story's state (and reason, when declined) after a decision. Rejects for an unknown story. */
  setStoryStatus(id: string, status: StoryRecord['status'], reason: string | null, at: number): Promise<void>;
  /** Erases a story: the row is deleted, text and all (ST11). Idempotent. */
  eraseStory(id: string): Promise<void>;
  /** A space's stories, oldest first (ties: by id). */
  listStories(spaceId: string): Promise<StoryRecord[]>;
  /** Sets a space's story settings. Rejects for an unknown space. */
  setStorySettings(spaceId: string, settings: StorySettingsRecord, at: number): Promise<void>;
  /** A space's story settings, or null when they were never set (stories off). */
  getStorySettings(spaceId: string): Promise<StorySettingsRecord | null>;

  /**
   * Replaces a space's feed setting of one kind (SPEC S13); an empty list removes it. Rejects
   * for an unknown space.
   */
  setFeedSetting(spaceId: string, kind: FeedSettingKind, values: readonly string[], at: number): Promise<void>;
  /** Every stored feed setting, of every space (a server loads them on start), by space then kind. */
  listFeedSettings(): Promise<FeedSettingRecord[]>;
  /** Stores a webhook subscription (S13); rejects for an unknown space or an id already stored. */
  addWebhook(w: WebhookRecord): Promise<void>;
  /** Removes a webhook subscription; idempotent. Its delivery log stays until trimmed. */
  removeWebhook(id: string): Promise<void>;
  /** Every stored webhook subscription, oldest first. */
  listWebhooks(): Promise<WebhookRecord[]>;
  /**
   * Appends delivery attempts in order, then keeps only the newest `keepPerSpace` of each space
   * they touched (S13).
   */
  appendWebhookDeliveries(records: readonly WebhookDeliveryRecord[], keepPerSpace: number): Promise<void>;
  /** The newest `limit` delivery attempts of a space, oldest first (append order). */
  listWebhookDeliveries(spaceId: string, limit: number): Promise<WebhookDeliveryRecord[]>;

  /** Flushes pending writes and releases resources. Idempotent. */
  close(): Promise<void>;
}

/** One full hash tile of the transparency log: 256 hashes of tree level 8·level (8,192 bytes). */
export interface LogTileRecord {
  readonly level: number;
  readonly index: number;
  readonly hashes: Uint8Array;
}

/** Entries appended at `start` together with the full tiles they complete. */
/**
 * A log append whose `start` is not the store's size: another writer (another node of a cluster,
 * SPEC K9) appended first. Nothing was stored; `size` is the store's size at the time, so the
 * writer can read what it missed and try again (LS3).
 */
export class LogSizeConflict extends RangeError {
  readonly size: number;
  constructor(start: number, size: number) {
    super(`append at ${start} but the log has ${size} entries`);
    this.name = 'LogSizeConflict';
    this.size = size;
  }
}

export interface LogAppendBatch {
  /** Must equal the store's size; anything else is rejected (an append-only log has no gaps). */
  readonly start: number;
  readonly entries: readonly Uint8Array[];
  readonly tiles: readonly LogTileRecord[];
}

/**
 * The transparency log's append-only store (src/log; SPEC rules LS1–LS8, test/contracts/
 * logStore.contract.ts). Entries are numbered from 0 and kept as raw leaf bytes. Full hash tiles
 * (C2SP tlog-tiles) are stored as they complete so that proofs and tiles never rehash the whole
 * tree; the partial right edge is rebuilt from the last < 256 entries and tiles on open.
 */
export interface LogStore {
  /**
   * Appends a batch atomically and durably (resolves after the commit). Rejects, storing nothing,
   * if `start` is not the current size or a tile is not exactly 8,192 bytes.
   */
  append(batch: LogAppendBatch): Promise<void>;
  /** Number of entries. */
  size(): Promise<number>;
  /** Entries [from, to), in order; rejects with RangeError unless 0 ≤ from ≤ to ≤ size. */
  readEntries(from: number, to: number): Promise<Uint8Array[]>;
  /** A full tile's 8,192 bytes, or null if it is not stored. */
  readTile(level: number, index: number): Promise<Uint8Array | null>;
  /** Stores a small named blob (the latest signed checkpoint). */
  putMeta(key: string, value: Uint8Array): Promise<void>;
  getMeta(key: string): Promise<Uint8Array | null>;
  /** Releases resources (not a shared database). Idempotent. */
  close(): Promise<void>;
}
