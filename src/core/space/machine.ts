/**
 * The space machine (SPEC §M): the whole live state of one space changes only here, through
 * `step(state, event) → { state, effects }`. No timers, no I/O, no clock, no randomness — `at`
 * comes with each event, identifiers and token hashes too — so folding the same events gives the
 * same state and the same effects, which is what replay, failover and tests rely on.
 *
 *            joined / resumed / display-joined                      tick(at, participant?)
 *   host ───────────────────────────────────────▶ step ──▶ effects: persist · publish(view) ·
 *            input / left / disconnected               notify(conn) · logAct(then) · closed
 *            act-requested ──▶ logAct ─(durable)─▶ act-logged ──▶ applied
 *
 * Input ordering (M3): `seq` is a positive integer, increasing per participant. A new seq above
 * the highest accepted is accepted (counted at once, persisted, acknowledged once durable); a seq
 * that was accepted recently is acknowledged again with its own values; any other seq ≤ the
 * highest accepted was never accepted and is refused with a coded error, never acknowledged.
 * Leave is an ordered event: an input stepped before a leave is removed by it, one after it is
 * refused by the host (the connection is leaving).
 *
 * For speed the state is mutable and owned by the machine: `step` changes it in place and
 * returns it. Only `step` may change it; the host reads it.
 */
import { AFFECT_SOURCES, type Affect } from '../affect.ts';
import { type CollectiveState, CollectiveTracker, type CollectiveTrackerOptions, collectiveInputOf } from '../collective/collectiveTracker.ts';
import { HeartSynchrony, type HeartSynchronyOptions } from '../collective/heartSynchrony.ts';
import { type Bridging, bridgingOf } from '../collective/bridging.ts';
import type { Aggregate } from '../aggregate/aggregate.ts';
import { PulseState } from '../pulse.ts';
import { type ReleasedGroups, releaseGroups } from '../release/groups.ts';
import { keyOfSeed } from '../release/chacha20.ts';
import { figuresOf, type LiveRelease, liveSettingsFor, newLiveRelease, smoothReleased, snapshotDue, snapshotOf as snapshotAggregate } from '../release/live.ts';
import { DEFAULT_RELEASE_POLICY, newReleaseCache, type ReleaseCache, type ReleasePolicy, type ReleasedPulse, releaseCollective, releaseHeartSynchrony, releasePulse } from '../release/release.ts';
import type { Effect, MergedCounts, Notice, PulseView, SpaceAct, SpaceEvent } from './events.ts';
import { applyAct, type CouncilAct, decide, decisionDue, decisionFailed, type GovernanceState, governanceActOf, governanceFields, governanceShown, newGovernance, refuseAct, replaceGovernance, snapshotOf } from '../policy/governance.ts';
import { PolicyHistory } from '../policy/policyInput.ts';
import { applyStoryAct, checkStoryAct, isStoryAct, newStoriesState, restartStories, type StoriesState, storiesEffects, storyActEntry, stepStoryEvent, syncStories } from './storySteps.ts';

/**
 * How many recently accepted inputs per participant are remembered for duplicate acks (M3): a
 * client re-sends only what was not acknowledged, at most 20 a second (W6), so a few are enough,
 * and the machine's memory stays small with 100,000 people in a space.
 */
export const RECENT_INPUTS = 8;

/** The space a machine runs. */
export interface SpaceSettings {
  readonly id: string;
  readonly code: string;
  readonly name: string;
  readonly capacity: number;
  readonly ttlMs: number;
  /** Named groups a participant may choose from (R6), at most 8; none when absent. */
  readonly groups?: readonly string[];
  /**
   * The space's secret noise seed (64 hex, R7): keys the release stage's noise. Kept on the
   * server only; never published, never logged. Absent on spaces created before R7 (no noise).
   */
  readonly noiseSeed?: string;
}

/** Settings shared by every space of a server. */
export interface MachineOptions {
  readonly bins: number;
  readonly smoothingMs: number;
  readonly participantHz: number;
  readonly displayHz: number;
  /** How often an aggregate point is persisted for the series, ms (P7). */
  readonly seriesEveryMs: number;
  readonly release: ReleasePolicy;
  /** Collective-state tracker options, or false to run without it. */
  readonly collective: CollectiveTrackerOptions | false;
  /** The room's heart synchrony (docs/heart.md), or false to run without it. */
  readonly heart: HeartSynchronyOptions | false;
  /**
   * A cluster node's machine (§K, ST15): its counts are one node's partial, so its steps never move
   * the gathering display; the tick owner's machine does, over the merged count, and publishes it.
   */
  readonly storiesFromOwner?: boolean;
}

/** Defaults (SPEC P1). */
export const DEFAULT_MACHINE_OPTIONS: MachineOptions = {
  bins: 16,
  smoothingMs: 3000,
  participantHz: 2,
  displayHz: 20,
  seriesEveryMs: 1000,
  release: DEFAULT_RELEASE_POLICY,
  collective: {},
  heart: {},
};

/**
 * A participant's recent inputs, oldest first, as one flat list of numbers — per input `seq,
 * valence, arousal, confidence, at, source` (source: its index in AFFECT_SOURCES). A list of
 * `{ seq, affect }` objects cost ≈ 150 bytes an input (two objects and their boxed doubles) —
 * ≈ 1.2 KB per participant at 8 inputs, most of the machine's memory per person; numbers in one
 * array are stored unboxed, 48 bytes an input. Read it with {@link recentAt}, {@link recentIndex}.
 */
export type RecentInputs = number[];

/** Numbers per input in {@link RecentInputs}. */
const RECENT_STRIDE = 6;

/** Appends an input to a recent list, dropping the oldest beyond {@link RECENT_INPUTS}. */
function pushRecent(list: RecentInputs, seq: number, a: Affect): void {
  const full = RECENT_INPUTS * RECENT_STRIDE;
  const source = AFFECT_SOURCES.indexOf(a.source);
  if (list.length < full) {
    list.push(seq, a.valence, a.arousal, a.confidence, a.at, source);
    return;
  }
  // Full: the oldest moves out in place, so the list never grows past its 48 numbers (pushing,
  // then cutting the front off, would leave V8's backing store at ~95 slots).
  list.copyWithin(0, RECENT_STRIDE);
  const k = full - RECENT_STRIDE;
  list[k] = seq;
  list[k + 1] = a.valence;
  list[k + 2] = a.arousal;
  list[k + 3] = a.confidence;
  list[k + 4] = a.at;
  list[k + 5] = source;
}

/** Position (0 = oldest) of the recent input with this seq, or −1. */
export function recentIndex(list: RecentInputs, seq: number): number {
  for (let i = 0; i < list.length; i += RECENT_STRIDE) if (list[i] === seq) return i / RECENT_STRIDE;
  return -1;
}

/** The recent input at position `i` (0 = oldest; −1 = the newest): its seq and affect, as accepted. */
export function recentAt(list: RecentInputs, i: number): { readonly seq: number; readonly affect: Affect } | null {
  const k = (i < 0 ? list.length / RECENT_STRIDE + i : i) * RECENT_STRIDE;
  if (k < 0 || k >= list.length) return null;
  const n = (j: number) => list[k + j] as number;
  return { seq: n(0), affect: { valence: n(1), arousal: n(2), confidence: n(3), source: AFFECT_SOURCES[n(5)] ?? 'tap', at: n(4) } };
}

/** What the machine remembers of one participant. */
export interface ParticipantState {
  /** Highest accepted seq (0 before the first). */
  highest: number;
  /** The last {@link RECENT_INPUTS} accepted inputs, oldest first (see {@link RecentInputs}). */
  readonly recent: RecentInputs;
  /** Open connections of this participant (0 = not connected; capacity counts connected ones). */
  sockets: number;
  /** Index of the group they chose in `space.groups`, or −1 (none, or prefer not to say). */
  group?: number;
}

/** The state of one space. Read it; change it only through {@link step}. */
export interface SpaceState {
  readonly space: SpaceSettings;
  readonly options: MachineOptions;
  status: 'open' | 'closed';
  /** Number of the last recorded event (events that changed the state are numbered 1, 2, …). */
  n: number;
  readonly pulse: PulseState;
  tracker: CollectiveTracker | null;
  collective: CollectiveState | null;
  /** Heart-rate readings of the people sharing one (only their heart rate, at ≤ 0.5 Hz). */
  heart: HeartSynchrony | null;
  readonly participants: Map<string, ParticipantState>;
  /** Participants with at least one open connection. */
  connected: number;
  displays: number;
  lastParticipantAt: number;
  lastSeriesAt: number;
  /** The last published view (what reads return: reads never step the machine). */
  lastView: PulseView | null;
  /** The last coarsened histogram, reused while the aggregate is unchanged (derived; replay rebuilds it). */
  readonly releaseCache: ReleaseCache;
  /** The last released groups and bridging, reused while no aggregate changed (display ticks between inputs). */
  groupRelease: { readonly key: string; readonly groups: ReleasedGroups; readonly bridging: Bridging | null } | null;
  /** Ids of the spaces this space's steward agreed to link with (an act on the public log). */
  readonly links: Map<string, string>;
  /** The council, its policies and what they set (SPEC §Q). */
  readonly gov: GovernanceState;
  /** Personal stories shared with consent, their moderation and the gathering display (SPEC §ST). */
  readonly stories: StoriesState;
  /** The live release (R7): batches, snapshot, noise (derived from recorded events; replay rebuilds it). */
  live: LiveRelease;
  /** ChaCha20 key of the space's noise seed, or null without one. */
  readonly noiseKey: Uint32Array | null;
}

/** The result of one step. */
export interface StepResult {
  readonly state: SpaceState;
  readonly effects: Effect[];
  /** Whether the event changed the state (then it was numbered `state.n` and must be recorded). */
  readonly recorded: boolean;
}

/** A fresh machine for a space. `n` continues a recorded numbering (0 for a new space). */
export function createSpaceState(space: SpaceSettings, options: Partial<MachineOptions> = {}, n = 0): SpaceState {
  const o: MachineOptions = { ...DEFAULT_MACHINE_OPTIONS, ...options };
  const state: SpaceState = {
    space,
    options: o,
    status: 'open',
    n,
    pulse: new PulseState({ bins: o.bins, ttlMs: space.ttlMs, smoothingMs: o.smoothingMs, minCohort: o.release.minCohort }),
    tracker: o.collective === false ? null : new CollectiveTracker(o.collective),
    collective: null,
    heart: heartOf(space, o),
    participants: new Map(),
    connected: 0,
    displays: 0,
    lastParticipantAt: -Infinity,
    lastSeriesAt: -Infinity,
    lastView: null,
    releaseCache: newReleaseCache(),
    groupRelease: null,
    links: new Map(),
    gov: newGovernance(),
    stories: newStoriesState(),
    live: newLiveRelease(),
    noiseKey: space.noiseSeed ? keyOfSeed(space.noiseSeed) : null,
  };
  state.pulse.defineGroups(space.groups?.length ?? 0);
  return state;
}

/**
 * The tick owner's machine of a cluster space (SPEC K3, K12): a fresh machine (no participants;
 * each tick takes the merged partials) that decides over `gov`, the governance state of the
 * owner node's own machine of the space — one state per node, so an act applied there is what
 * the owner's next tick shows and evaluates. Its derived parts start afresh, as after a restart
 * (Q12): the history window, and no decision in flight; the count of failed evaluations goes on
 * from `carried` (the previous owners', K12).
 */
export function createOwnerState(space: SpaceSettings, options: Partial<MachineOptions>, gov: GovernanceState, started: Extract<SpaceEvent, { kind: 'started' }>, carried: { readonly evalErrors?: number; readonly stories?: StoriesState } = {}): SpaceState {
  const own = createSpaceState(space, { ...options, storiesFromOwner: false });
  step(own, started);
  // The node's stories too (ST15): what it stored and synced is what the owner's gathering view shows.
  const state: SpaceState = { ...own, gov, ...(carried.stories ? { stories: carried.stories } : {}) };
  gov.history = new PolicyHistory();
  gov.pending = false;
  gov.changed = true;
  // The space's count of failed evaluations goes on from the owners before this one (K12).
  gov.evalErrors = Math.max(gov.evalErrors, carried.evalErrors ?? 0);
  return state;
}

/** Index of a group name in the space's groups: −1 for null, undefined for an unknown name. */
function groupIndex(state: SpaceState, group: string | null | undefined): number | undefined {
  if (group === null || group === undefined) return -1;
  const i = state.space.groups?.indexOf(group) ?? -1;
  return i < 0 ? undefined : i;
}

/**
 * Restores a participant's stored point and seq into a machine being rebuilt after a restart,
 * before its `started` event (derived from recorded inputs, so not an event itself).
 */
export function restoreParticipant(state: SpaceState, participantId: string, lastSeq: number, latest: Affect | null, group: string | null = null): void {
  const g = groupIndex(state, group) ?? -1;
  const recent: RecentInputs = [];
  if (latest) pushRecent(recent, lastSeq, latest);
  state.participants.set(participantId, { highest: lastSeq, recent, sockets: 0, ...(g >= 0 ? { group: g } : {}) });
  if (latest) state.pulse.upsert(participantId, latest, latest.at, g);
}

function heartOf(space: SpaceSettings, o: MachineOptions): HeartSynchrony | null {
  return o.heart === false ? null : new HeartSynchrony({ seed: space.id, ...o.heart });
}

const notify = (conn: number, msg: Notice, durable: boolean, pulse = false): Effect => ({ type: 'notify', conn, msg, durable, ...(pulse ? { pulse: true } : {}) });

function done(state: SpaceState, effects: Effect[], recorded: boolean): StepResult {
  if (recorded) state.n++;
  return { state, effects, recorded };
}

function participantOf(state: SpaceState, id: string): ParticipantState {
  let p = state.participants.get(id);
  if (!p) {
    p = { highest: 0, recent: [], sockets: 0 };
    state.participants.set(id, p);
  }
  return p;
}

/** Folds one event. See the header for the rules; SPEC §M numbers them. */
export function step(state: SpaceState, e: SpaceEvent): StepResult {
  const closed = state.status === 'closed';
  switch (e.kind) {
    case 'started': {
      state.connected = 0;
      state.displays = 0;
      for (const p of state.participants.values()) p.sockets = 0;
      // A tick owner taking over a cluster space continues the smoothing it last saw published (§K).
      state.pulse.resumeFrom(e.pulseSeq, e.smoothed ?? null, e.smoothed ? (e.smoothedAt ?? e.at) : null);
      state.tracker = state.options.collective === false ? null : new CollectiveTracker(state.options.collective);
      state.collective = null;
      state.heart = heartOf(state.space, state.options);
      state.lastView = null;
      state.lastParticipantAt = -Infinity;
      state.lastSeriesAt = -Infinity;
      // Derived governance state starts afresh too: the history window, and any decision whose entry was lost.
      state.gov.history = new PolicyHistory();
      state.gov.pending = false;
      state.gov.optedOut.clear();
      // The gathering display starts afresh (its controls were for the displays that are gone).
      // Rate windows start afresh, and the rotation follows the stories' own order, so a host
      // rebuilt from storage and a replay from the first event hold the same story state (ST13).
      Object.assign(state.stories, { current: null, since: e.at, pinned: false, paused: false, lastView: null, lastKey: '' });
      restartStories(state.stories);
      state.live = newLiveRelease();
      // A takeover (§K) continues the released smoothed mean as it continues the pulse's.
      if (e.smoothed) Object.assign(state.live, { smoothed: { ...e.smoothed }, lastAt: e.smoothedAt ?? e.at });
      state.groupRelease = null;
      return done(state, [], true);
    }
    case 'joined': {
      if (closed) return done(state, [notify(e.conn, { t: 'error', code: 'SPACE_CLOSED', message: 'this space has closed' }, false)], false);
      if (!e.consent) return done(state, [notify(e.conn, { t: 'error', code: 'CONSENT_REQUIRED', message: 'join needs consent: true after the consent screen' }, false)], false);
      const g = groupIndex(state, e.group);
      if (g === undefined) return done(state, [notify(e.conn, { t: 'error', code: 'BAD_REQUEST', message: 'group: this space has no such group' }, false)], false);
      if (state.connected + (e.elsewhere ?? 0) >= state.space.capacity) return done(state, [notify(e.conn, { t: 'full', message: `this space is full (${state.space.capacity} people)`, capacity: state.space.capacity }, false)], false);
      const joiner = participantOf(state, e.participantId);
      joiner.sockets = 1;
      if (g >= 0) joiner.group = g;
      state.connected++;
      const group = g >= 0 ? { group: e.group ?? null } : {};
      return done(
        state,
        [
          { type: 'persist', write: { kind: 'participant', participantId: e.participantId, tokenHash: e.tokenHash, joinedAt: e.at, ...group } },
          notify(e.conn, { t: 'welcome', role: 'participant', participant: e.participantId, token: e.token, you: null, lastSeq: 0, ...group }, true, true),
        ],
        true,
      );
    }
    case 'resumed': {
      if (closed) return done(state, [notify(e.conn, { t: 'error', code: 'SPACE_CLOSED', message: 'this space has closed' }, false)], false);
      const known = state.participants.get(e.participantId);
      if ((!known || known.sockets === 0) && state.connected + (e.elsewhere ?? 0) >= state.space.capacity) {
        return done(state, [notify(e.conn, { t: 'full', message: `this space is full (${state.space.capacity} people)`, capacity: state.space.capacity }, false)], false);
      }
      const p = known ?? participantOf(state, e.participantId);
      if (!known) {
        p.highest = e.stored.lastSeq;
        if (e.stored.latest) pushRecent(p.recent, e.stored.lastSeq, e.stored.latest);
        const g = groupIndex(state, e.stored.group) ?? -1;
        if (g >= 0) p.group = g;
        // Resumed on this node after another held them (cluster failover, §K): their stored,
        // unexpired point counts here now. (On one node an unknown participant's point has expired.)
        const latest = e.stored.latest;
        if (latest && latest.at + state.space.ttlMs > e.at) state.pulse.upsert(e.participantId, latest, latest.at, g);
      }
      p.sockets++;
      if (p.sockets === 1) state.connected++;
      const chosen = p.group !== undefined && p.group >= 0 ? { group: state.space.groups?.[p.group] ?? null } : {};
      return done(state, [notify(e.conn, { t: 'welcome', role: 'participant', participant: e.participantId, you: state.pulse.latestOf(e.participantId), lastSeq: p.highest, ...chosen }, true, true)], true);
    }
    case 'display-joined': {
      if (closed) return done(state, [notify(e.conn, { t: 'error', code: 'SPACE_CLOSED', message: 'this space has closed' }, false)], false);
      state.displays++;
      const storiesView = state.stories.lastView;
      return done(state, [notify(e.conn, { t: 'welcome', role: 'display', you: null, lastSeq: 0 }, false, true), ...(storiesView ? [notify(e.conn, storiesView, false)] : [])], true);
    }
    case 'display-left': {
      state.displays = Math.max(0, state.displays - 1);
      return done(state, [], true);
    }
    case 'input': {
      if (closed) return done(state, [notify(e.conn, { t: 'error', code: 'SPACE_CLOSED', message: 'this space has closed', seq: e.seq }, false)], false);
      const p = state.participants.get(e.participantId);
      if (!p || p.sockets === 0) return done(state, [notify(e.conn, { t: 'error', code: 'NOT_JOINED', message: 'join or resume first', seq: e.seq }, false)], false);
      if (!Number.isSafeInteger(e.seq) || e.seq < 1) return done(state, [notify(e.conn, { t: 'error', code: 'BAD_REQUEST', message: 'seq must be a positive integer', seq: e.seq }, false)], false);
      if (e.seq <= p.highest) {
        const at = recentIndex(p.recent, e.seq);
        const prior = at >= 0 ? recentAt(p.recent, at) : null;
        if (prior) return done(state, [notify(e.conn, { t: 'ack', seq: e.seq, affect: prior.affect }, true)], false);
        return done(state, [notify(e.conn, { t: 'error', code: 'BAD_REQUEST', message: `seq ${e.seq} was never accepted and is not above the highest accepted seq ${p.highest}; send new inputs with a higher seq`, seq: e.seq }, false)], false);
      }
      p.highest = e.seq;
      pushRecent(p.recent, e.seq, e.affect);
      state.pulse.upsert(e.participantId, e.affect, e.at, p.group ?? -1);
      if (e.heartBpm !== undefined) state.heart?.observe(e.participantId, e.heartBpm, e.at);
      const shown = state.lastView?.smoothed ?? null;
      return done(
        state,
        [
          { type: 'persist', write: { kind: 'input', n: state.n + 1, participantId: e.participantId, seq: e.seq, affect: e.affect, exposed: e.exposed, shown, ...(e.heartBpm !== undefined ? { heartBpm: e.heartBpm } : {}) } },
          notify(e.conn, { t: 'ack', seq: e.seq, affect: e.affect }, true),
        ],
        true,
      );
    }
    case 'input-failed': {
      const p = state.participants.get(e.participantId);
      const i = p ? recentIndex(p.recent, e.seq) : -1;
      if (!p || i < 0) return done(state, [], false);
      p.recent.splice(i * RECENT_STRIDE, RECENT_STRIDE);
      if (p.highest === e.seq) {
        // Taken back: a re-send with the same seq is accepted anew, and the point before it returns.
        const prior = recentAt(p.recent, -1);
        p.highest = prior?.seq ?? 0;
        if (prior) state.pulse.upsert(e.participantId, prior.affect, prior.affect.at, p.group ?? -1);
        else state.pulse.remove(e.participantId);
      }
      return done(state, [], false);
    }
    case 'left': {
      state.pulse.remove(e.participantId);
      state.heart?.forget(e.participantId);
      return done(state, [{ type: 'persist', write: { kind: 'clear-latest', participantId: e.participantId } }, notify(e.conn, { t: 'bye', reason: 'left' }, true)], true);
    }
    case 'erased': {
      // Recorded without the participant (their other records are erased with them): a replay steps it as a no-op.
      const p = state.participants.get(e.participantId);
      if (!p) return done(state, [], true);
      state.pulse.remove(e.participantId);
      state.heart?.forget(e.participantId);
      if (p.sockets > 0) state.connected--;
      state.participants.delete(e.participantId);
      return done(state, [{ type: 'persist', write: { kind: 'erase', participantId: e.participantId } }], true);
    }
    case 'group-changed': {
      if (closed) return done(state, [notify(e.conn, { t: 'error', code: 'SPACE_CLOSED', message: 'this space has closed' }, false)], false);
      const p = state.participants.get(e.participantId);
      if (!p || p.sockets === 0) return done(state, [notify(e.conn, { t: 'error', code: 'NOT_JOINED', message: 'join or resume first' }, false)], false);
      const g = groupIndex(state, e.group);
      if (g === undefined) return done(state, [notify(e.conn, { t: 'error', code: 'BAD_REQUEST', message: 'group: this space has no such group' }, false)], false);
      if (g >= 0) p.group = g;
      else delete p.group;
      state.pulse.regroup(e.participantId, g);
      return done(state, [{ type: 'persist', write: { kind: 'group', participantId: e.participantId, group: g >= 0 ? e.group : null } }, notify(e.conn, { t: 'group', group: g >= 0 ? e.group : null }, true)], true);
    }
    case 'disconnected': {
      const p = state.participants.get(e.participantId);
      if (!p || p.sockets === 0) return done(state, [], false);
      p.sockets--;
      if (p.sockets === 0) state.connected--;
      return done(state, [], true);
    }
    case 'tick':
      if (e.merged) mergeCounts(state, e.merged);
      return tick(state, e.at, e.participant, e.partial === true);
    case 'story-submitted':
    case 'story-withdrawn':
    case 'story-control': {
      const r = stepStoryEvent(state.stories, e, closed);
      return done(state, r.recorded && !state.options.storiesFromOwner ? [...r.effects, ...storiesEffects(state.stories, e.at, state.pulse.count, state.options.release)] : r.effects, r.recorded);
    }
    case 'moved': {
      // §K: the participant resumed on another node, which holds their point and seq from now on.
      const p = state.participants.get(e.participantId);
      const counted = state.pulse.remove(e.participantId);
      state.heart?.forget(e.participantId);
      if (!p && !counted) return done(state, [], false);
      if (p && p.sockets > 0) state.connected--;
      state.participants.delete(e.participantId);
      return done(state, [], true);
    }
    case 'act-requested': {
      // R8: a release is logged whether or not the space is open (exports come after a close too).
      if (e.act.kind === 'privacy-release') return done(state, [{ type: 'logAct', act: { type: 'privacy.release', space: state.space.id, at: e.at, payload: e.act.entry }, next: { kind: 'act-logged', at: e.at, act: e.act, reply: e.reply } }], false);
      if (isStoryAct(e.act)) {
        if (closed) return done(state, [{ type: 'answer', ref: e.reply, result: { ok: false, code: 'SPACE_CLOSED', message: 'this space has closed' }, durable: false }], false);
        const why = checkStoryAct(state.stories, e.act);
        if (why) return done(state, [{ type: 'answer', ref: e.reply, result: { ok: false, code: 'CONFLICT', message: why }, durable: false }], false);
        const entry = storyActEntry(e.act);
        return done(state, [{ type: 'logAct', act: { type: entry.type, space: state.space.id, at: e.at, payload: entry.payload }, next: { kind: 'act-logged', at: e.at, act: e.act, reply: e.reply } }], false);
      }
      if (closed) return done(state, [notify(e.reply, { t: 'error', code: 'SPACE_CLOSED', message: 'the space is already closed' }, false)], false);
      if (isCouncilAct(e.act)) {
        const refused = refuseAct(state.gov, e.act, e.at, state.space.groups ?? []);
        if (refused) return done(state, [notify(e.reply, { t: 'error', code: refused.code, message: refused.message }, false)], false);
        return done(state, [{ type: 'logAct', act: governanceActOf(state.space.id, e.act, e.at, state.gov), next: { kind: 'act-logged', at: e.at, act: e.act, reply: e.reply } }], false);
      }
      const act =
        e.act.kind === 'close'
          ? { type: 'space.closed', space: state.space.id, at: e.at, payload: {} }
          : e.act.kind === 'link'
            ? { type: e.act.agree ? 'space.linked' : 'space.unlinked', space: state.space.id, at: e.at, payload: { with: e.act.other } }
            : { type: 'steward.changed', space: state.space.id, at: e.at, payload: { reason: e.act.reason } };
      return done(state, [{ type: 'logAct', act, next: { kind: 'act-logged', at: e.at, act: e.act, reply: e.reply } }], false);
    }
    case 'act-logged': {
      // The entry is durable: the desk may now store and answer the release (it changes no state here).
      if (e.act.kind === 'privacy-release') return done(state, [{ type: 'answer', ref: e.reply, result: { ok: true, value: e.entry ?? null }, durable: false }], false);
      if (isStoryAct(e.act)) {
        if (closed) return done(state, [{ type: 'answer', ref: e.reply, result: { ok: false, code: 'SPACE_CLOSED', message: 'this space has closed' }, durable: false }], false);
        const r = applyStoryAct(state.stories, e.act, e.at, e.reply);
        return done(state, state.options.storiesFromOwner ? r.effects : [...r.effects, ...storiesEffects(state.stories, e.at, state.pulse.count, state.options.release)], r.recorded);
      }
      if (closed) return done(state, [notify(e.reply, { t: 'error', code: 'SPACE_CLOSED', message: 'the space is already closed' }, false)], false);
      if (isCouncilAct(e.act)) {
        const then = applyAct(state.gov, e.act, e.at, e.entry ?? null, state.space.groups ?? []);
        // The next participant beat publishes, even in an empty room: screens show every change (Q8).
        state.gov.changed = true;
        const fx: Effect[] = [{ type: 'persist', write: { kind: 'governance', snapshot: snapshotOf(state.gov) } }];
        for (const a of then) fx.push({ type: 'logAct', act: governanceActOf(state.space.id, a, e.at, state.gov), next: { kind: 'act-logged', at: e.at, act: a, reply: 0 } });
        if (e.reply !== 0) fx.push(notify(e.reply, { t: 'done', ok: true }, true));
        return done(state, fx, true);
      }
      if (e.act.kind === 'close') {
        state.status = 'closed';
        return done(state, [{ type: 'persist', write: { kind: 'close', at: e.at } }, { type: 'closed' }, notify(e.reply, { t: 'done', ok: true }, true)], true);
      }
      if (e.act.kind === 'link') {
        if (e.act.agree) state.links.set(e.act.other, e.act.otherCode);
        else state.links.delete(e.act.other);
        return done(state, [{ type: 'persist', write: { kind: 'link', other: e.act.other, agree: e.act.agree, at: e.at } }, notify(e.reply, { t: 'done', ok: true }, true)], true);
      }
      return done(state, [{ type: 'persist', write: { kind: 'steward-token', tokenHash: e.act.tokenHash } }, notify(e.reply, { t: 'done', ok: true }, true)], true);
    }
    case 'act-failed': {
      if (isCouncilAct(e.act)) decisionFailed(state.gov, e.act);
      return done(state, [], true);
    }
    case 'feedback-opted': {
      if (e.optOut) state.gov.optedOut.add(e.participantId);
      else state.gov.optedOut.delete(e.participantId);
      return done(state, [], true);
    }
    case 'governance-synced': {
      replaceGovernance(state.gov, e.snapshot, state.space.groups ?? []);
      state.gov.changed = true;
      return done(state, [], false);
    }
    case 'stories-synced':
      return done(state, syncStories(state.stories, e.settings, e.stories), false);
    case 'stories-viewed':
      state.stories.lastView = e.view;
      return done(state, [], false);
  }
}

const COUNCIL_ACT_KINDS = new Set<string>(['council-create', 'member-add', 'member-remove', 'policy-propose', 'rules-propose', 'policy-vote', 'policy-adopt', 'proposal-expire', 'policy-retire', 'policy-fire', 'feedback-set', 'display-mode', 'space-template'] satisfies CouncilAct['kind'][]);

/** Whether a space act is a council/governance act (SPEC §Q). */
export function isCouncilAct(a: SpaceAct): a is CouncilAct {
  return COUNCIL_ACT_KINDS.has(a.kind);
}

/** Whether a tick at this beat would change anything (the host skips ticks that would not). */
export function wantsTick(state: SpaceState, participant: boolean, at: number): boolean {
  if (state.status === 'closed') return false;
  if (!participant) return state.displays > 0;
  if (state.connected > 0 || state.displays > 0 || state.pulse.grid.n > 0 || state.gov.changed || decisionDue(state.gov, at)) return true;
  // An empty, unwatched room publishes once that it is empty, then rests.
  return state.lastView === null || state.lastView.count > 0;
}

function tick(state: SpaceState, at: number, participant: boolean, partial: boolean): StepResult {
  if (!wantsTick(state, participant, at)) return done(state, [], false);
  const o = state.options;
  const released = o.release.live ? releaseLive(state, at) : releasePulse(state.pulse.measure(at), state.pulse.grid, o.release, state.releaseCache);
  if (!o.release.live) state.pulse.changed.clear();
  // The collective state reads the released snapshot's grid under R7 (never the live one).
  const grid = o.release.live && state.live.snapshot ? state.live.snapshot : state.pulse.grid;
  if (participant && state.tracker) {
    state.collective = state.tracker.update(collectiveInputOf(grid, released));
    state.lastParticipantAt = at;
  } else if (participant) state.lastParticipantAt = at;
  const base: PulseView = state.tracker ? { ...released, space: state.space.code, collective: releaseCollective(state.collective, released.count, o.release) } : { ...released, space: state.space.code };
  // Heart figures only while someone shares a heart signal, so rooms without straps look as before.
  const hearts: PulseView = state.heart && state.heart.tracked > 0 ? { ...base, heart: releaseHeartSynchrony(state.heart.measure(at), o.release.minCohort) } : base;
  const grouped = state.space.groups?.length ? withGroups(state, hearts) : hearts;
  // Feedback and display fields only once governance is in use, so other spaces' bytes stay as they were.
  // A cluster node's own tick sees one node's partial: the owner's merged tick shows and decides (K12).
  const view: PulseView = !partial && governanceShown(state.gov) ? { ...grouped, ...governanceFields(state.gov) } : grouped;
  state.lastView = view;
  const effects: Effect[] = [{ type: 'publish', participants: participant && state.connected > 0, displays: state.displays > 0, view }];
  if (!partial) state.gov.changed = false;
  if (participant && !partial) {
    const decision = decide(state.gov, view, at, state.space.groups ?? []);
    if (decision) effects.push({ type: 'logAct', act: governanceActOf(state.space.id, decision, at, state.gov), next: { kind: 'act-logged', at, act: decision, reply: 0 } });
  }
  // The gathering display moves on with the room's clock, and goes dark below the cohort (ST8, ST9).
  // A cluster node's own ticks count one node's partial: the owner's merged ticks move it (ST15).
  if (participant && !partial) effects.push(...storiesEffects(state.stories, at, released.count, o.release));
  if (at - state.lastSeriesAt >= o.seriesEveryMs && !released.suppressed && released.mean && released.spread && released.quadrants) {
    state.lastSeriesAt = at;
    effects.push({ type: 'persist', write: { kind: 'series', at, count: released.count, mean: released.mean, spread: released.spread, quadrants: released.quadrants } });
  }
  return done(state, effects, true);
}

/**
 * The live release of one tick (R7): measure (expiring points, advancing the seq), take a new
 * snapshot when one is due, and release the snapshot's figures with the released smoothed mean.
 */
function releaseLive(state: SpaceState, at: number): ReleasedPulse {
  const policy = state.options.release;
  const m = state.pulse.measure(at);
  // A crowd's settings only while every released aggregate is a crowd: the groups' histograms
  // (R6) are batched with the room but not noised, so a small group keeps the room on batches.
  let smallest = m.count;
  for (const g of state.pulse.groupGrids) smallest = Math.min(smallest, g.n);
  const livePolicy = liveSettingsFor(policy.live as NonNullable<ReleasePolicy['live']>, smallest);
  const live = state.live;
  // People whose points changed since the snapshot: the machine's own record of them, or — on a
  // cluster's tick owner, whose counts are the nodes' merged partials (§K) — a lower bound read
  // off the grids (a move changes two cells by one and the count not at all, a join or a leave
  // one cell and the count by one), which only waits longer.
  const changed = Math.max(state.pulse.changed.size, live.snapshot ? changedAtLeast(live.snapshot, state.pulse.grid) : 0);
  if (snapshotDue(live, changed, m.count, livePolicy)) {
    live.snapshot = snapshotAggregate(state.pulse.grid);
    live.groupSnapshots = state.pulse.groupGrids.map(snapshotAggregate);
    live.epoch = m.seq;
    live.figures = figuresOf(live.snapshot, policy.minCohort, livePolicy, state.noiseKey, m.seq);
    state.pulse.changed.clear();
  }
  const f = live.figures as NonNullable<LiveRelease['figures']>;
  const k = policy.minCohort;
  // The count is live (who is here says nothing about how anyone feels); every figure about
  // feelings is the snapshot's, and all of them are withheld while either holds fewer than k.
  const suppressed = f.count < k || m.count < k;
  const smoothed = smoothReleased(live, suppressed ? null : f.mean, at, state.options.smoothingMs);
  if (suppressed) return { t: 'pulse', seq: m.seq, at, count: m.count, suppressed, minCohort: k, mean: null, smoothed: null, spread: null, quadrants: null, bins: state.pulse.grid.bins, hist: null };
  return { t: 'pulse', seq: m.seq, at, count: m.count, suppressed, minCohort: k, mean: f.mean, smoothed, spread: f.spread, quadrants: f.quadrants, bins: state.pulse.grid.bins, hist: f.hist };
}

/**
 * A lower bound on the people whose points differ between two aggregates: ⌈(Σ|Δcell| + |Δn|) / 2⌉.
 * With j joins, l leaves and m moves, Σ|Δcell| ≤ j + l + 2m and |Δn| = |j − l| ≤ j + l, so
 * j + l + m is at least that. (Without |Δn|, people arriving in a room after its first,
 * empty snapshot counted half and a small cluster room stayed withheld.) O(bins²).
 */
function changedAtLeast(before: Aggregate, now: Aggregate): number {
  let l1 = 0;
  for (let i = 0; i < now.counts.length; i++) l1 += Math.abs((now.counts[i] ?? 0) - (before.counts[i] ?? 0));
  return Math.ceil((l1 + Math.abs(now.n - before.n)) / 2);
}

/**
 * The tick owner's machine of a cluster space (§K) takes the whole space's merged counts: it holds
 * no participants itself, so its aggregate is exactly the merge of the nodes' partials.
 */
function mergeCounts(state: SpaceState, m: MergedCounts): void {
  state.pulse.grid.assign(m.grid);
  state.pulse.groupGrids.forEach((g, i) => {
    const other = m.groups[i];
    if (other) g.assign(other);
  });
  state.connected = m.connected;
  state.displays = m.displays;
  // Heart synchrony over every node's sharers (K10): the owner measures their rows, not its own.
  if (m.heart) state.heart?.useMerged(m.heart);
}

/** Adds the released groups (R6) and their bridging measures to a view (spaces that declare groups). */
function withGroups(state: SpaceState, view: PulseView): PulseView {
  const names = state.space.groups ?? [];
  const live = state.options.release.live ? state.live : null;
  const room = live?.snapshot ?? state.pulse.grid;
  const groupGrids = live?.snapshot ? live.groupSnapshots : state.pulse.groupGrids;
  // A pure function of the aggregates: equal versions (or, under R7, the same snapshot) give equal releases (deterministic reuse).
  const key = live ? `epoch:${live.epoch}:${state.options.release.minCohort}` : `${state.pulse.grid.version}:${state.pulse.groupGrids.map((g) => g.version).join(',')}:${state.options.release.minCohort}`;
  if (state.groupRelease?.key !== key) {
    const groups = releaseGroups(names, groupGrids, room, state.options.release);
    const bridging = bridgingOf(
      names,
      names.map((name) => groups[name]?.hist ?? null),
      state.pulse.grid.bins,
    );
    state.groupRelease = { key, groups, bridging };
  }
  return { ...view, groups: state.groupRelease.groups, bridging: state.groupRelease.bridging };
}
