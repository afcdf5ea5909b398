/**
 * The space host (SPEC §M): runs one space machine (core/space) per open space on an injected
 * {@link Scheduler}, and carries out the machine's effects in order — persist (through the
 * storage's ordered group commit), record (every event that changed the state, for replay),
 * publish (encode once, hash for the record, send on the bus), notify (to one connection; acks
 * and welcomes only once what came before is durable), logAct (the public log first; the act
 * takes effect only once its entry is durable) and closed.
 *
 * It holds no rules of its own: who may join, which seq is accepted, what a pulse shows — all of
 * that is the machine's and the release stage's. The host translates: edges (HTTP, WebSocket)
 * call it with connections and requests, it turns them into events.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Affect } from '../core/affect.ts';
import { checkAffect } from '../core/affect.ts';
import { fail, ok, type ErrorCode, isFatal, type Result, wsCloseCodeOf } from '../core/errors.ts';
import type { GovernanceSink } from '../core/governance.ts';
import { type AckMessage, type ErrorMessage, normaliseCode, type PointInputMessage, type GroupChosenMessage, type ServerByeMessage, type SpaceInfo, type TextInputMessage, type WelcomeMessage } from '../core/protocol.ts';
import { type Bridging, bridgingOf } from '../core/collective/bridging.ts';
import { beatPeriodMs, isParticipantBeat } from '../core/space/beats.ts';
import type { ConnRef, Effect, Notice, PulseView, SpaceAct, SpaceEvent, Write } from '../core/space/events.ts';
import { createSpaceState, DEFAULT_MACHINE_OPTIONS, isCouncilAct, type MachineOptions, restoreParticipant, type SpaceState, step } from '../core/space/machine.ts';
import { encodeView, recordOf } from '../core/space/record.ts';
import { authorView, restoreStory } from '../core/space/storySteps.ts';
import { releaseQueueEntry, type QueueEntry, releaseStories, type StoriesView } from '../core/release/stories.ts';
import type { Decision, DeclineReason, StoryControl, StorySettings } from '../core/stories/stories.ts';
import { checkPseudonym, checkStoryText } from '../core/stories/storyText.ts';
import { checkSpaceName } from '../core/spaceName.ts';
import { checkGroupNames } from '../core/groups/groupNames.ts';
import type { Bus } from '../bus/port.ts';
import type { ParticipantRecord, PulsePoint, SpaceEventRecord, SpaceRecord, Storage } from '../storage/port.ts';
import { CONSENT_PURPOSES, type ConsentPurpose, consentDocument, STORY_CONSENT_PURPOSES, storyConsentDocument } from '../core/consent.ts';
import type { Cancel, Scheduler } from './scheduler.ts';
import { checkSpaceTemplate } from '../core/templates/spaceTemplateFields.ts';
import { checkRetentionDays, DAY_MS, DEFAULT_RETENTION_MS, retentionDue } from '../core/retention.ts';
import { isDisplayMode } from '../core/displayMode.ts';
import { councilActOfEntry, type GovernanceSnapshot, type GovernanceState, governanceFields, isDerived, type Member, type Notice as PolicyNotice, restoreGovernance } from '../core/policy/governance.ts';
import { checkPolicy } from '../core/policy/checkPolicy.ts';
import { type DryRunReport, dryRun } from '../core/policy/dryRun.ts';
import { recordedOptions } from '../core/space/record.ts';
import { loadSession } from './rehearse.ts';
import { WriteBacklog, type WriteBacklogBounds } from './writeBacklog.ts';
import { hashToken, newId, newParticipantId, newParticipantToken, newToken, participantTokenKey } from './tokens.ts';
import { checkMemberName, checkRules, type CouncilRules, votesNeeded } from '../core/policy/council.ts';
import type { FeedbackMode } from '../core/policy/actions.ts';
import type { DisplayMode } from '../core/displayMode.ts';

/** Join-code alphabet: no 0/O, 1/I/L, so codes survive being read aloud or off a projector. */
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
/** Join-code length: 31⁸ ≈ 8.5·10¹¹ codes (≈ 40 bits), guessed only against a rate limit. */
export const CODE_LENGTH = 8;

/** Bus subjects of a space. */
export const subjects = {
  participantPulse: (spaceId: string) => `space.${spaceId}.pulse.participant`,
  displayPulse: (spaceId: string) => `space.${spaceId}.pulse.display`,
  control: (spaceId: string) => `space.${spaceId}.control`,
  /** The gathering display's released stories view (`{"t":"stories",…}`, SPEC ST10), for displays. */
  stories: (spaceId: string) => `space.${spaceId}.stories`,
} as const;

/** SHA-256 hex of a published pulse's bytes (what tick records hold, and replay recomputes). */
export function hashPulse(bytes: string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function newCode(): string {
  let s = '';
  for (let i = 0; i < CODE_LENGTH; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return s;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Text → affect, e.g. src/analyze/text. */
export type TextAnalyser = (text: string) => { valence: number; arousal: number; confidence: number };

/** A connection as the host sees it: where to send, and how the edge learns it joined. */
export interface ConnSink {
  /** Sends one text frame (a JSON string, or pre-encoded UTF-8 bytes). */
  send(frame: string | Uint8Array): void;
  /** Sends text frames in order, as `send` each would (a socket may write them at once). */
  sendAll?(frames: readonly (string | Uint8Array)[]): void;
  /** Closes the connection with a WebSocket close code. */
  close(code: number, reason: string): void;
  /** The welcome was sent: pulses for this role of this space may now flow to the connection. */
  welcomed(session: Session): void;
}

/** A connection's session, once joined. */
export interface Session {
  readonly spaceId: string;
  readonly role: 'participant' | 'display';
  readonly participantId: string | null;
}

/** What a steward gets back when creating a space. */
export interface CreatedSpace {
  readonly space: SpaceRecord;
  readonly stewardToken: string;
}

/** Where a participant stands with the story consent step (ST12): the current version, whether they agreed to it, and whether they had agreed to an older text. */
export interface StoryConsentStatus {
  readonly version: string;
  readonly agreed: boolean;
  readonly changed: boolean;
}

/** Settings of the host. */
export interface SpaceHostOptions {
  readonly storage: Storage;
  readonly bus: Bus;
  readonly governance: GovernanceSink;
  readonly scheduler: Scheduler;
  readonly analyseText?: TextAnalyser;
  /** Machine settings (grid, smoothing, rates, release policy, collective tracker). */
  readonly machine?: Partial<MachineOptions>;
  /** Default capacity of a new space. */
  readonly capacity?: number;
  /** Largest capacity a steward may ask for. */
  readonly maxCapacity?: number;
  /** Default TTL of a point, ms. */
  readonly ttlMs?: number;
  /** How long raw data about people is kept after a space closes, ms (`--retention`, V3; default 30 days). */
  readonly retentionMs?: number;
  /** The consent text's version (V1; default the SHA-256 of consentDocument()). Tests: a text changed by an upgrade. */
  readonly consentVersion?: string;
  /** Where unexpected failures are reported (default console.error). */
  readonly report?: (what: string, e: unknown) => void;
  /** The automatic first pass over a story (SPEC ST4): flags, never a refusal. Default: no flags. */
  readonly screenStory?: (text: string) => string[];
  /** One space on several nodes (SPEC §K, src/space/cluster): pulses come from the space's tick owner. */
  readonly cluster?: ClusterHooks;
  /** When new inputs are refused with OVERLOADED because durable writes are behind (W5b; default DEFAULT_WRITE_BACKLOG of writeBacklog.ts). */
  readonly writeBacklog?: Partial<WriteBacklogBounds>;
  /**
   * The clock of the write backlog's lag, ms (default `performance.now`): the database's time is
   * real time, whatever the scheduler does — a session run in virtual time (a manual scheduler
   * moved a minute at once, as `attune simulate` and the demo recording do) must not read as a
   * minute of backlog. Tests hand in the manual scheduler's clock.
   */
  readonly writeClock?: () => number;
  /**
   * Called once an act's log entry is durable, before the act takes effect (its type): a failure
   * point at the process level for tests (`ATTUNE_CRASH_AFTER_LOG`, src/cli/commands/serve.ts, through `ServerDeps.afterLogged`).
   */
  readonly afterLogged?: (type: string) => void;
}

/**
 * What a cluster node (src/space/cluster/clusterNode.ts) gives the host (SPEC §K). With it, the host's
 * machines hold only this node's participants (their partial aggregates), publish no pulses of
 * their own, and count the participants connected on other nodes against a space's capacity.
 */
export interface ClusterHooks {
  /** Participants of the space connected to other nodes, as last heard. */
  elsewhere(spaceId: string): number;
  /** Every event that changed a space's state, after its effects (claims, announcements). */
  stepped(spaceId: string, e: SpaceEvent): void;
  /**
   * The whole space's presence over every node (H2), or null before any partial arrived;
   * `displays` includes the feeds watching on every node (`feeds`).
   */
  presence(spaceId: string): { present: number; connected: number; displays: number; feeds: number } | null;
  /**
   * A council act asked for on this node (K12): sent to the node that owns the space's tick,
   * which takes it; resolves its answer. Null when this node takes it itself (it owns the tick,
   * or nobody does).
   */
  forward(spaceId: string, act: SpaceAct): Promise<Result<true>> | null;
  /**
   * Resolves once the lease round a space's `started` began has ended (K2): a space created on a
   * node is answered only after that node tried to take its tick lease, so it ticks (and has a
   * pulse to read, H5) from its first beat.
   */
  opened(spaceId: string): Promise<void>;
  /** A participant opted out of adaptive feedback (or back in) through this node (Q8): every node hears of it (K12). */
  optedOut(spaceId: string, participantId: string, optOut: boolean): void;
  /** The tick owner's council figures of the space (K12), or null when this node counts them itself (it owns the tick, or has not heard from an owner). */
  figures(spaceId: string): { readonly optedOut: number; readonly evalErrors: number } | null;
  /**
   * A story act (decision, settings) or a display control asked for on this node (ST15): sent to
   * the tick owner, which takes it; resolves its answer. Null when this node takes it itself.
   */
  forwardStory(spaceId: string, req: StoryRequest): Promise<Result<unknown>> | null;
}

/** A story act or a gathering-display control, as the tick owner takes it (ST15). */
export type StoryRequest = { readonly kind: 'act'; readonly act: Extract<SpaceAct, { kind: 'story-decision' | 'story-settings' }> } | { readonly kind: 'control'; readonly control: StoryControl; readonly storyId: string | null };

interface LiveSpace {
  record: SpaceRecord;
  readonly state: SpaceState;
  beat: Cancel | null;
  /** The last published pulse, as sent (reads return it; they never step the machine). */
  lastBytes: Uint8Array | null;
  /** The connection of each connected participant (the newest one). */
  readonly participantConn: Map<string, ConnRef>;
  /** Acts asked for by people run one at a time, so what is checked before logging is what is applied (Q10). */
  acts: Promise<unknown>;
  /** Feeds watching as displays without a connection (F5), each with what to call if the space closes. */
  readonly watchers: Map<ConnRef, () => void>;
}

/** A feed's watch of a space (see {@link SpaceHost.watch}). */
export interface DisplayWatch {
  readonly spaceId: string;
  readonly code: string;
  /** Stops watching (a recorded `display-left`); idempotent. */
  end(): void;
}

interface ConnState {
  readonly sink: ConnSink;
  session: Session | null;
  /** Set once a bye was accepted: later frames are ignored. */
  leaving: boolean;
}

const encoder = new TextEncoder();

/** Longest a tick record or series point waits for the next write before it is written on its own, ms. */
export const LAZY_FLUSH_MS = 250;

/** The host of every open space on this server. */
export class SpaceHost {
  readonly options: MachineOptions;
  private readonly o: SpaceHostOptions;
  private readonly byCode = new Map<string, LiveSpace>();
  private readonly byId = new Map<string, LiveSpace>();
  private readonly conns = new Map<ConnRef, ConnState>();
  private readonly replies = new Map<ConnRef, (r: Result<true>) => void>();
  /** Requests waiting for an `answer` effect (stories). */
  private readonly answers = new Map<ConnRef, (r: Result<unknown>) => void>();
  private nextRef = 1;
  /** The most recent write: a durable notify waits for it (writes commit in call order, S3). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** Erasures asked for by the machine (V2), until the HTTP call that caused them reads their outcome. */
  private readonly erasures = new Map<string, Promise<{ readonly inputs: number }>>();
  /** The consent text's version: SHA-256 (hex) of src/core/consent.ts's document (V1). */
  readonly consentVersion: string;
  /** The story consent text's version: SHA-256 (hex) of `storyConsentDocument()` (ST2, V1). */
  readonly storyConsentVersion = createHash('sha256').update(storyConsentDocument()).digest('hex');
  private lazyEvents: SpaceEventRecord[] = [];
  private readonly pending: [LiveSpace, SpaceEvent][] = [];
  private stepping = false;
  private lazySeries: PulsePoint[] = [];
  private lazyTimer: Cancel | null = null;
  private stopped = false;
  /** Durable writes asked for and not settled yet: past its bounds, inputs are refused (W5b). */
  readonly backlog: WriteBacklog;
  /** The backlog's clock (see SpaceHostOptions.writeClock). */
  readonly writeClock: () => number;
  private readonly capacity: number;
  private readonly maxCapacity: number;
  private readonly ttlMs: number;
  /** The server's retention (V3): given to each new space that does not ask for its own. */
  readonly retentionMs: number;
  private readonly actListeners = new Set<(spaceId: string, e: Extract<SpaceEvent, { kind: 'act-logged' | 'act-failed' }>) => void>();
  private readonly syncListeners = new Set<(spaceId: string, at: number) => void>();

  constructor(o: SpaceHostOptions) {
    this.o = o;
    // A cluster node's machines hold one node's partial: the tick owner moves the gathering display (ST15).
    this.options = { ...DEFAULT_MACHINE_OPTIONS, ...o.machine, ...(o.cluster ? { storiesFromOwner: true } : {}) };
    this.capacity = o.capacity ?? 1000;
    this.backlog = new WriteBacklog(o.writeBacklog);
    this.writeClock = o.writeClock ?? (() => performance.now());
    this.maxCapacity = o.maxCapacity ?? 100_000;
    this.ttlMs = o.ttlMs ?? 120_000;
    this.retentionMs = o.retentionMs ?? DEFAULT_RETENTION_MS;
    this.consentVersion = o.consentVersion ?? createHash('sha256').update(consentDocument()).digest('hex');
  }

  /** The host's scheduler (edges read the time from it, so every part shares one clock). */
  get scheduler(): Scheduler {
    return this.o.scheduler;
  }

  get bus(): Bus {
    return this.o.bus;
  }

  /** Participant pulse rate, Hz. */
  get participantHz(): number {
    return this.options.participantHz;
  }

  private report(what: string, e: unknown): void {
    if (this.stopped) return;
    (this.o.report ?? ((w, err) => console.error(`attune: ${w}`, err)))(what, e);
  }

  /**
   * Rebuilds every open space from storage (S6): its participants' unexpired points and seqs,
   * its event numbering, and the pulse numbering after the last recorded tick; then `started`.
   */
  async start(): Promise<void> {
    const now = this.o.scheduler.now();
    for (const space of await this.o.storage.listSpaces()) {
      if (space.status !== 'open') continue;
      const lastN = await this.o.storage.lastEventN(space.id);
      const state = createSpaceState(this.settingsOf(space, await this.noiseSeedOf(space.id)), this.options, lastN);
      // In a cluster the other nodes may hold these participants: each comes back with their
      // resume (stored point and seq, K4), so nobody is counted on two nodes.
      if (!this.o.cluster) for (const p of await this.o.storage.listActiveParticipants(space.id, now - space.ttlMs)) restoreParticipant(state, p.id, p.lastSeq, p.latest, p.group ?? null);
      let pulseSeq = 0;
      const tail = await this.o.storage.listEvents(space.id, Math.max(1, lastN - 4000), 4000);
      for (const r of tail) if (r.kind === 'tick' && r.body) pulseSeq = Math.max(pulseSeq, Number((JSON.parse(r.body) as { seq?: number }).seq ?? 0));
      // Links are acts already applied (logged, then recorded): restored like participants' points.
      for (const other of await this.o.storage.listSpaceLinks(space.id)) {
        const o = await this.o.storage.getSpace(other);
        if (o) state.links.set(other, o.code);
      }
      // The council and what it set are acts already applied (logged, then stored, S12).
      const gov = await this.o.storage.getGovernance(space.id);
      if (gov) restoreGovernance(state.gov, JSON.parse(gov) as GovernanceSnapshot, space.groups ?? []);
      // Stories and their settings are restored like points: derived from what was recorded (ST13).
      const storySettings = await this.o.storage.getStorySettings(space.id);
      if (storySettings) state.stories.settings = storySettings;
      for (const st of await this.o.storage.listStories(space.id)) {
        restoreStory(state.stories, { id: st.id, author: st.participantId, text: st.text, name: st.name, affect: { valence: st.valence, arousal: st.arousal, confidence: st.confidence }, flags: st.flags, status: st.status, reason: st.reason as DeclineReason | null, at: st.createdAt });
      }
      const live = this.adopt(space, state);
      this.stepIn(live, { kind: 'started', at: now, pulseSeq });
      this.beginTicking(live);
    }
  }

  // ——— cluster (SPEC §K; used by src/space/cluster) ———

  /** Ids of the spaces open on this host. */
  liveSpaceIds(): string[] {
    return [...this.byId.keys()];
  }

  private opening = new Map<string, Promise<boolean>>();
  /** Spaces whose close this host applied (F8: it announces `space.closed` to webhooks). */
  private readonly closedOnThisHost = new Set<string>();

  /**
   * Opens a space another node created (it is open in the shared storage but not live here):
   * rebuilt like a restart, from its participants' stored points. Resolves whether it is live.
   */
  openStored(spaceId: string): Promise<boolean> {
    if (this.byId.has(spaceId)) return Promise.resolve(true);
    let p = this.opening.get(spaceId);
    if (!p) {
      p = (async () => {
        const space = await this.o.storage.getSpace(spaceId);
        if (space?.status !== 'open' || this.byId.has(spaceId) || this.stopped) return this.byId.has(spaceId);
        const now = this.o.scheduler.now();
        const state = createSpaceState(this.settingsOf(space, await this.noiseSeedOf(space.id)), this.options, await this.o.storage.lastEventN(space.id));
        // The council and what it set, as the node that applied them stored them (S12, K12).
        const gov = await this.o.storage.getGovernance(space.id);
        if (gov) restoreGovernance(state.gov, JSON.parse(gov) as GovernanceSnapshot, space.groups ?? []);
        // The stories and their settings, as the nodes that took them stored them (ST13, ST15).
        const storySettings = await this.o.storage.getStorySettings(space.id);
        if (storySettings) state.stories.settings = storySettings;
        for (const st of await this.storedStories(space.id)) restoreStory(state.stories, st);
        if (this.byId.has(spaceId) || this.stopped) return this.byId.has(spaceId);
        const live = this.adopt(space, state);
        this.stepIn(live, { kind: 'started', at: now, pulseSeq: 0 });
        this.beginTicking(live);
        return true;
      })().finally(() => this.opening.delete(spaceId));
      this.opening.set(spaceId, p);
    }
    return p;
  }

  /**
   * The participant continued on another node (§K): a socket of theirs still open here gets
   * `bye` `replaced`, and their point and seq state leave this node's machine.
   */
  forget(spaceId: string, participantId: string): void {
    const live = this.byId.get(spaceId);
    if (!live) return;
    const ref = live.participantConn.get(participantId);
    if (ref !== undefined) {
      live.participantConn.delete(participantId);
      const c = this.conns.get(ref);
      if (c?.session) {
        c.session = null;
        c.sink.send(JSON.stringify({ t: 'bye', reason: 'replaced' } satisfies ServerByeMessage));
        c.sink.close(1000, 'replaced');
      }
    }
    this.stepIn(live, { kind: 'moved', at: this.o.scheduler.now(), participantId });
  }

  /** A cluster space closed on another node (§K), which stored and logged it: it stops here too. */
  retire(spaceId: string): void {
    const live = this.byId.get(spaceId);
    if (!live) return;
    live.beat?.cancel();
    live.beat = null;
    live.record = { ...live.record, status: 'closed' };
    this.byCode.delete(live.record.code);
    this.byId.delete(spaceId);
  }

  /**
   * Another node applied a council act (K12): this node's copy of the space's governance is
   * replaced by the stored one (S12). Resolves once stepped.
   */
  async syncGovernance(spaceId: string): Promise<void> {
    const stored = await this.o.storage.getGovernance(spaceId);
    const live = this.byId.get(spaceId);
    if (!live || stored === null) return;
    this.stepIn(live, { kind: 'governance-synced', at: this.o.scheduler.now(), snapshot: JSON.parse(stored) as GovernanceSnapshot });
  }

  /**
   * Another node changed the space's stories or their settings and stored it (ST15): this node's
   * copy becomes the stored one, so it answers the queue and the authors as that node would.
   */
  async syncStories(spaceId: string): Promise<void> {
    const live = this.byId.get(spaceId);
    if (!live) return;
    const settings = (await this.o.storage.getStorySettings(spaceId)) ?? { enabled: false, moderation: 'pre' as const };
    const stories = await this.storedStories(spaceId);
    if (this.byId.get(spaceId) === live) this.stepIn(live, { kind: 'stories-synced', at: this.o.scheduler.now(), settings, stories });
  }

  /** The gathering display's view the tick owner published (ST15): what this node's displays get after their welcome, and `GET …/stories/shown`. */
  storiesViewed(spaceId: string, view: StoriesView): void {
    const live = this.byId.get(spaceId);
    if (live) this.stepIn(live, { kind: 'stories-viewed', at: this.o.scheduler.now(), view });
  }

  /**
   * A story act or display control another node asked this node, the tick owner, to take (ST15):
   * taken here, one act at a time with this node's own; resolves once what it changed is durable.
   */
  async takeStory(spaceId: string, req: StoryRequest): Promise<Result<unknown>> {
    const live = this.byId.get(spaceId);
    if (!live) return fail('SPACE_CLOSED', 'the space has closed');
    const r = await this.storyHere(live, req);
    await this.drain();
    return r;
  }

  /** A story act or control: on a cluster, taken by the tick owner (ST15); this node then reads the stories back. */
  private storyRequest(live: LiveSpace, req: StoryRequest): Promise<Result<unknown>> {
    const away = this.o.cluster?.forwardStory(live.record.id, req) ?? null;
    if (!away) return this.storyHere(live, req);
    return away.then(async (r) => {
      if (r.ok) await this.syncStories(live.record.id);
      return r;
    });
  }

  /** Takes a story act (after the acts asked for before it, so each is checked against the state the one before left, ST6) or a control here. */
  private storyHere(live: LiveSpace, req: StoryRequest): Promise<Result<unknown>> {
    if (req.kind === 'control') return this.ask(live, (reply) => ({ kind: 'story-control', at: this.o.scheduler.now(), reply, control: req.control, storyId: req.storyId }));
    const run = () => this.ask(live, (reply) => ({ kind: 'act-requested', at: this.o.scheduler.now(), act: req.act, reply }));
    const next = live.acts.then(run, run);
    live.acts = next;
    return next;
  }

  /**
   * Another node rotated the space's steward token (K6): the stored hash is the one in force
   * here too, so the old token stops working on every node, not only the one that rotated it.
   */
  async syncSteward(spaceId: string): Promise<void> {
    const record = await this.o.storage.getSpace(spaceId);
    const live = this.byId.get(spaceId);
    if (live && record && record.stewardTokenHash !== live.record.stewardTokenHash) live.record = { ...live.record, stewardTokenHash: record.stewardTokenHash };
  }

  /**
   * A council act another node asked this node, the tick owner, to take (K12): checked, logged,
   * applied and stored here, one at a time with this node's own; resolves once what it changed
   * is durable, so the asking node reads it back from storage.
   */
  async takeAct(spaceId: string, act: SpaceAct): Promise<Result<true>> {
    const live = this.byId.get(spaceId);
    if (!live) return fail('SPACE_CLOSED', 'the space has closed');
    const r = await this.actHere(live, act);
    await this.drain();
    return r;
  }

  /**
   * A decision of the tick owner's machine (K12: `policy.fired`, `feedback.changed` on expiry),
   * logged like any act — awaited, before it takes effect — and then applied to this node's
   * machine of the space, whose governance state the owner's machine decides over.
   */
  logDecision(spaceId: string, fx: Extract<Effect, { type: 'logAct' }>): void {
    const live = this.byId.get(spaceId);
    if (live) this.logThen(live, fx);
  }

  /**
   * Applies the council acts of a space that the public log holds after the last entry its stored
   * governance applied (K12): a taker calls it once it read the stored state back, before its
   * machine decides anything, so an act a dead owner logged but never applied (or stored) takes
   * effect — logged once, before its effect, as everywhere (M5). Resolves how many it applied,
   * once what they changed is stored.
   */
  async applyLoggedGovernance(spaceId: string): Promise<number> {
    const live = this.byId.get(spaceId);
    const since = this.o.governance.since;
    const after = live?.state.gov.applied ?? null;
    if (!live || !since || after === null) return 0;
    const tail = await since.call(this.o.governance, spaceId, after);
    let n = 0;
    for (const { index, act } of tail) {
      const a = councilActOfEntry(act.type, act.payload, act.at);
      const applied = live.state.gov.applied;
      if (!a || (applied !== null && index <= applied) || this.byId.get(spaceId) !== live) continue;
      this.stepIn(live, { kind: 'act-logged', at: act.at, act: a, reply: 0, entry: index });
      n++;
    }
    await this.drain();
    return n;
  }

  /** The tick owner's pulse of a cluster space, as every node's sockets got it (reads and welcomes return it). */
  setClusterPulse(spaceId: string, bytes: Uint8Array): void {
    const live = this.byId.get(spaceId);
    if (live) live.lastBytes = bytes;
  }


  private settingsOf(space: SpaceRecord, noiseSeed: string | null) {
    return { id: space.id, code: space.code, name: space.name, capacity: space.capacity, ttlMs: space.ttlMs, ...(space.groups?.length ? { groups: space.groups } : {}), ...(noiseSeed ? { noiseSeed } : {}) };
  }

  /**
   * The space's secret noise seed (R7, S15); a space from before R7 gets one now, stored before
   * its machine starts (so replay of what follows finds it). Never leaves the server.
   */
  private async noiseSeedOf(spaceId: string): Promise<string> {
    const stored = await this.o.storage.getSpaceSecret(spaceId);
    if (stored) return stored;
    await this.o.storage.setSpaceSecret(spaceId, randomBytes(32).toString('hex'));
    return (await this.o.storage.getSpaceSecret(spaceId)) as string;
  }

  private adopt(space: SpaceRecord, state: SpaceState): LiveSpace {
    const live: LiveSpace = { record: space, state, beat: null, lastBytes: null, participantConn: new Map(), acts: Promise.resolve(), watchers: new Map() };
    this.byCode.set(space.code, live);
    this.byId.set(space.id, live);
    return live;
  }

  /** Ticks at max(displayHz, participantHz) on drift-free beats; every participant beat is flagged (M2). */
  private beginTicking(live: LiveSpace): void {
    const { displayHz, participantHz } = this.options;
    const period = beatPeriodMs(displayHz, participantHz);
    const sch = this.o.scheduler;
    // Beat 0 is a participant beat, taken now, so the space has a published pulse at once.
    const start = sch.now();
    // A tick is stamped with its beat's target time: beats caught up after a stall keep their slots.
    // A cluster node's machine holds one node's partial: its ticks decide and show nothing (K12).
    const partial = this.o.cluster ? { partial: true } : {};
    const beat = (i: number, at: number) => this.stepIn(live, { kind: 'tick', at, participant: isParticipantBeat(i, displayHz, participantHz), ...partial });
    beat(0, start);
    live.beat = sch.every(period, (at, k) => beat(k + 1, at), start + period);
  }

  // ——— the effect executor ———

  /** Steps one event into a live space and carries out its effects, in order. */
  private stepIn(live: LiveSpace, e: SpaceEvent): void {
    // Never re-entered: an effect's subscriber (the in-process bus delivers synchronously) that
    // calls back into the host gets its event stepped after this one's effects and record, so the
    // recorded order is the stepped order (M6).
    this.pending.push([live, e]);
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) this.stepNow(next[0], next[1]);
    } finally {
      this.stepping = false;
    }
  }

  private stepNow(live: LiveSpace, e: SpaceEvent): void {
    let r: ReturnType<typeof step>;
    try {
      r = step(live.state, e);
    } catch (err) {
      this.report(`space ${live.record.code}: step ${e.kind} failed`, err);
      return;
    }
    let tickHash: string | undefined;
    let tickSeq: number | undefined;
    for (const fx of r.effects) {
      const h = this.carryOut(live, e, fx);
      if (h) {
        tickHash = h.hash;
        tickSeq = h.seq;
      }
    }
    if (r.recorded && (e.kind === 'act-logged' || e.kind === 'act-failed')) for (const l of this.actListeners) l(live.record.id, e);
    // Another node's act, read back from storage (K12): not recorded here, but what screens follow changed.
    if (e.kind === 'governance-synced') for (const l of this.syncListeners) l(live.record.id, e.at);
    if (r.recorded && this.o.cluster) this.o.cluster.stepped(live.record.id, e);
    if (r.recorded && e.kind !== 'input') {
      const rec = recordOf(e, live.state.n, { ...(tickHash ? { hash: tickHash } : {}), ...(tickSeq !== undefined ? { seq: tickSeq } : {}), ...(e.kind === 'started' ? { options: this.options } : {}) });
      if (!rec) return;
      const record = { spaceId: live.record.id, ...rec };
      // Tick records wait for the next write (or LAZY_FLUSH_MS): a tick needs nothing durable,
      // and an fsync per display tick would stall the loop. Order is kept — they are written
      // before any later write — so what is durable stays a prefix of the stepped events (M6).
      if (e.kind === 'tick') this.lazyEvent(record);
      else this.write(() => this.o.storage.appendEvents([record]), 'record an event');
    }
  }

  private lazyEvent(r: SpaceEventRecord): void {
    this.lazyEvents.push(r);
    if (!this.lazyTimer) this.lazyTimer = this.o.scheduler.at(this.o.scheduler.now() + LAZY_FLUSH_MS, () => this.flushLazy());
  }

  private flushLazy(): void {
    this.lazyTimer?.cancel();
    this.lazyTimer = null;
    if (this.lazyEvents.length > 0) {
      const batch = this.lazyEvents;
      this.lazyEvents = [];
      this.track(this.o.storage.appendEvents(batch), 'record ticks');
    }
    if (this.lazySeries.length > 0) {
      const batch = this.lazySeries;
      this.lazySeries = [];
      this.track(this.o.storage.appendPulsePoints(batch), 'store the pulse series');
    }
  }

  /** Asks for a write, after every lazy record stepped before it. */
  private write(start: () => Promise<void>, what: string): void {
    this.flushLazy();
    this.track(start(), what);
  }

  private track(p: Promise<void>, what: string): void {
    this.lastWrite = p;
    // One reaction per write (this is every input's path): the backlog hears of it either way.
    const settled = this.backlog.begin(this.writeClock());
    p.then(settled, (err: unknown) => {
      settled();
      this.report(`could not ${what}`, err);
    });
  }

  private carryOut(live: LiveSpace, e: SpaceEvent, fx: Effect): { hash: string; seq: number } | null {
    switch (fx.type) {
      case 'persist':
        this.persist(live, fx.write);
        return null;
      case 'publish': {
        const text = encodeView(fx.view);
        // In a cluster this machine holds one node's partial; the tick owner publishes the space's pulse (§K).
        if (this.o.cluster) return { hash: hashPulse(text), seq: fx.view.seq };
        const bytes = encoder.encode(text);
        live.lastBytes = bytes;
        const id = live.record.id;
        if (fx.displays) this.o.bus.publish(subjects.displayPulse(id), bytes);
        if (fx.participants) this.o.bus.publish(subjects.participantPulse(id), bytes);
        return { hash: hashPulse(text), seq: fx.view.seq };
      }
      case 'notify':
        this.notify(live, e, fx.conn, fx.msg, fx.durable, fx.pulse === true);
        return null;
      case 'logAct':
        this.logThen(live, fx);
        return null;
      case 'stories':
        // The gathering display follows the room's count, which a cluster node's machine does not have (K3).
        if (this.o.cluster) return null;
        this.o.bus.publish(subjects.stories(live.record.id), encoder.encode(JSON.stringify(fx.view)));
        return null;
      case 'tell': {
        const ref = live.participantConn.get(fx.participantId);
        const c = ref === undefined ? undefined : this.conns.get(ref);
        if (c) c.sink.send(JSON.stringify(fx.msg));
        return null;
      }
      case 'answer': {
        const give = () => this.answerNow(fx.ref, fx.result);
        if (fx.durable) this.lastWrite.then(give, () => this.answerNow(fx.ref, fail('UNAVAILABLE', 'storage failed; try again')));
        else give();
        return null;
      }
      case 'closed': {
        live.beat?.cancel();
        live.beat = null;
        const at = e.at;
        live.record = { ...live.record, status: 'closed', closedAt: at };
        this.byCode.delete(live.record.code);
        this.byId.delete(live.record.id);
        this.closedOnThisHost.add(live.record.id);
        this.o.bus.publish(subjects.control(live.record.id), encoder.encode(JSON.stringify({ t: 'bye', reason: 'space-closed' })));
        const ended = [...live.watchers.values()];
        live.watchers.clear();
        for (const f of ended) f();
        return null;
      }
    }
  }

  /** Appends an act to the public log and steps what follows only once it is durable (M5, Q10). */
  private logThen(live: LiveSpace, fx: Extract<Effect, { type: 'logAct' }>): void {
    const then = fx.next;
    this.o.governance.record(fx.act).then(
      (entry) => {
        this.o.afterLogged?.(fx.act.type);
        // The log's index of the entry goes with the act, so screens can link to it (Q8).
        const next = then.kind === 'act-logged' && typeof entry === 'number' ? { ...then, entry } : then;
        if (this.byId.get(live.record.id) === live) this.stepIn(live, next);
        else this.settle(then.kind === 'act-logged' ? then.reply : 0, fail('SPACE_CLOSED', 'the space has closed'));
      },
      (err) => {
        this.report(`could not log ${fx.act.type}; nothing was changed`, err);
        // Recorded, so a decision the machine took clears in replay as it did here (Q10).
        if (then.kind === 'act-logged' && isDerived(then.act) && this.byId.get(live.record.id) === live) this.stepIn(live, { kind: 'act-failed', at: this.o.scheduler.now(), act: then.act });
        this.settle(then.kind === 'act-logged' ? then.reply : 0, fail('UNAVAILABLE', 'the public log is unavailable, so nothing was changed; try again'));
      },
    );
  }

  private persist(live: LiveSpace, w: Write): void {
    const s = this.o.storage;
    const spaceId = live.record.id;
    switch (w.kind) {
      case 'participant':
        this.write(() => s.createParticipant({ id: w.participantId, spaceId, tokenHash: w.tokenHash, joinedAt: w.joinedAt, lastSeq: 0, latest: null, ...(w.group ? { group: w.group } : {}) }), 'store a participant');
        return;
      case 'input':
        this.write(() => s.appendInputs([{ spaceId, participantId: w.participantId, seq: w.seq, affect: w.affect, exposed: w.exposed, shown: w.shown, n: w.n, ...(w.heartBpm !== undefined ? { heartBpm: w.heartBpm } : {}) }]), 'store an input');
        return;
      case 'clear-latest':
        this.write(() => s.clearLatest(w.participantId), 'clear a point');
        return;
      case 'erase': {
        const done = s.eraseParticipant(w.participantId);
        this.erasures.set(w.participantId, done);
        this.write(() => done.then(() => {}), 'erase a participant');
        return;
      }
      case 'group':
        this.write(() => s.setParticipantGroup(w.participantId, w.group), "store a participant's group");
        return;
      case 'link':
        this.write(() => s.setSpaceLink(spaceId, w.other, w.agree, w.at), 'store a link');
        return;
      case 'close':
        this.write(() => s.closeSpace(spaceId, w.at), 'close a space');
        return;
      case 'steward-token':
        live.record = { ...live.record, stewardTokenHash: w.tokenHash };
        this.write(() => s.updateStewardTokenHash(spaceId, w.tokenHash), 'change a steward token');
        return;
      case 'governance':
        this.write(() => s.putGovernance(spaceId, JSON.stringify(w.snapshot)), 'store the council');
        return;
      case 'story':
        this.write(
          () => s.createStory({ id: w.storyId, spaceId, participantId: w.participantId, text: w.text, name: w.name, valence: w.affect.valence, arousal: w.affect.arousal, confidence: w.affect.confidence, flags: w.flags, status: w.status, reason: null, createdAt: w.at, decidedAt: null }),
          'store a story',
        );
        return;
      case 'story-status':
        this.write(() => s.setStoryStatus(w.storyId, w.status, w.reason, w.at), "store a story's state");
        return;
      case 'story-erase':
        this.write(() => s.eraseStory(w.storyId), 'erase a story');
        return;
      case 'story-settings':
        this.write(() => s.setStorySettings(spaceId, w.settings, w.at), 'store story settings');
        return;
      case 'series': {
        // In a cluster this machine's figures are one node's partial; the tick owner stores the series (K3).
        if (this.o.cluster) return;
        const point: PulsePoint = { spaceId, at: w.at, count: w.count, valence: w.mean.valence, arousal: w.mean.arousal, spreadValence: w.spread.valence, spreadArousal: w.spread.arousal, quadrants: w.quadrants };
        this.lazySeries.push(point);
        if (!this.lazyTimer) this.lazyTimer = this.o.scheduler.at(this.o.scheduler.now() + LAZY_FLUSH_MS, () => this.flushLazy());
        return;
      }
    }
  }

  private answerNow(ref: ConnRef, r: Result<unknown>): void {
    const f = this.answers.get(ref);
    if (!f) return;
    this.answers.delete(ref);
    f(r);
  }

  private settle(ref: ConnRef, r: Result<true>): void {
    if (this.answers.has(ref)) {
      this.answerNow(ref, r);
      return;
    }
    const f = this.replies.get(ref);
    if (!f) return;
    this.replies.delete(ref);
    f(r);
  }

  private notify(live: LiveSpace, e: SpaceEvent, ref: ConnRef, msg: Notice, durable: boolean, withPulse: boolean): void {
    if (msg.t === 'error' && this.replies.has(ref)) {
      this.settle(ref, fail(msg.code, msg.message));
      return;
    }
    if (msg.t === 'done') {
      const settleIt = () => this.settle(ref, ok(true));
      if (durable) this.lastWrite.then(settleIt, () => this.settle(ref, fail('UNAVAILABLE', 'storage failed; try again')));
      else settleIt();
      return;
    }
    const deliver = () => {
      const c = this.conns.get(ref);
      if (!c) return;
      this.deliver(live, c, msg, withPulse);
    };
    if (!durable) {
      deliver();
      return;
    }
    this.lastWrite.then(deliver, (err) => {
      const c = this.conns.get(ref);
      if (msg.t === 'ack' && e.kind === 'input') {
        // Never stored: take it back, and say so (the client may send it again with the same seq).
        this.stepIn(live, { kind: 'input-failed', at: this.o.scheduler.now(), participantId: e.participantId, seq: e.seq });
        if (c) this.sendError(c, 'UNAVAILABLE', 'your input could not be stored; send it again', msg.seq, false);
        return;
      }
      this.report('a durable write failed before a reply', err);
      if (c) this.sendError(c, 'UNAVAILABLE', 'storage is unavailable; try again shortly');
    });
  }

  private deliver(live: LiveSpace, c: ConnState, msg: Notice, withPulse: boolean): void {
    switch (msg.t) {
      case 'welcome': {
        const space: SpaceInfo = this.info(live.record);
        const welcome: WelcomeMessage = { t: 'welcome', role: msg.role, ...(msg.participant ? { participant: msg.participant } : {}), ...(msg.token ? { token: msg.token } : {}), space, you: msg.you, lastSeq: msg.lastSeq, pulseHz: this.options.participantHz, ...(msg.group !== undefined ? { group: msg.group } : {}) };
        // The space's last pulse with it, so the screen has something to show at once.
        const text = JSON.stringify(welcome);
        const pulse = withPulse ? live.lastBytes : null;
        if (!pulse) c.sink.send(text);
        else if (c.sink.sendAll) c.sink.sendAll([text, pulse]);
        else {
          c.sink.send(text);
          c.sink.send(pulse);
        }
        if (c.session) c.sink.welcomed(c.session);
        return;
      }
      case 'ack':
        c.sink.send(JSON.stringify(msg satisfies AckMessage));
        return;
      case 'error':
        this.sendError(c, msg.code, msg.message, msg.seq);
        if (msg.code === 'SPACE_CLOSED' || msg.code === 'CONSENT_REQUIRED') this.unsession(c, msg.code === 'SPACE_CLOSED');
        return;
      case 'group':
        c.sink.send(JSON.stringify(msg satisfies GroupChosenMessage));
        return;
      case 'stories':
        c.sink.send(JSON.stringify(msg));
        return;
      case 'full':
        c.sink.send(JSON.stringify(msg));
        c.session = null;
        c.sink.close(wsCloseCodeOf('SPACE_FULL'), 'space full');
        return;
      case 'bye':
        c.sink.close(1000, 'bye');
        return;
    }
  }

  /** A refused join leaves the connection without a session (the machine never counted it). */
  private unsession(c: ConnState, _closed: boolean): void {
    if (c.session && !c.leaving) c.session = null;
  }

  private sendError(c: ConnState, code: ErrorCode, message: string, seq?: number, fatal = isFatal(code)): void {
    const m: ErrorMessage = seq === undefined ? { t: 'error', code, message } : { t: 'error', code, message, seq };
    c.sink.send(JSON.stringify(m));
    if (fatal) c.sink.close(wsCloseCodeOf(code), message.slice(0, 120));
  }

  // ——— connections (the WebSocket edge) ———

  /** Registers a connection; returns its handle. */
  attach(sink: ConnSink): ConnRef {
    const ref = this.nextRef++;
    this.conns.set(ref, { sink, session: null, leaving: false });
    return ref;
  }

  /** The session of a connection, if it joined. */
  sessionOf(ref: ConnRef): Session | null {
    return this.conns.get(ref)?.session ?? null;
  }

  /**
   * A join (W3). Resolves NOT_FOUND (and SPACE_CLOSED for a closed space) as values so the edge
   * can throttle guessing (W13); every other outcome reaches the connection through the machine.
   */
  async join(ref: ConnRef, code: string, role: 'participant' | 'display', consent: boolean, group: string | null = null, consentVersion?: string): Promise<Result<true>> {
    const c = this.conns.get(ref);
    if (!c) return fail('BAD_REQUEST', 'connection is gone');
    if (c.session) return fail('BAD_REQUEST', 'already joined on this connection');
    // V1: a page that read an older consent text is asked again before anyone joins under it.
    if (role === 'participant' && consentVersion !== undefined && consentVersion !== this.consentVersion) return this.consentChanged(consentVersion);
    const norm = normaliseCode(code);
    let live = this.byCode.get(norm);
    if (!live) {
      const stored = await this.o.storage.getSpaceByCode(norm);
      if (stored?.status === 'closed') return fail('SPACE_CLOSED', 'this space has closed');
      // A cluster space another node created opens here on its first join (§K).
      if (stored && this.o.cluster && (await this.openStored(stored.id))) live = this.byId.get(stored.id);
      if (!live) return fail('NOT_FOUND', 'no space has that join code');
    }
    const at = this.o.scheduler.now();
    if (role === 'display') {
      c.session = { spaceId: live.record.id, role: 'display', participantId: null };
      this.stepIn(live, { kind: 'display-joined', at, conn: ref });
      return ok(true);
    }
    // Time-ordered (S19): a join storm's rows append to the B-trees instead of scattering.
    const token = newParticipantToken(at);
    const participantId = newParticipantId(at);
    c.session = { spaceId: live.record.id, role: 'participant', participantId };
    const before = live.state.connected;
    this.stepIn(live, { kind: 'joined', at, conn: ref, participantId, tokenHash: participantTokenKey(token), token, consent, ...(group !== null ? { group } : {}), ...this.elsewhere(live) });
    if (live.state.connected > before) {
      live.participantConn.set(participantId, ref);
      // V1: which consent text they agreed to, when, for what — after their row, in the same order.
      this.write(() => this.o.storage.recordConsent({ participantId, at, hash: this.consentVersion, purposes: [...CONSENT_PURPOSES] }), 'record a consent');
    } else c.session = null;
    return ok(true);
  }

  /** Why a join code has no open space: NOT_FOUND or SPACE_CLOSED, as values (W13). */
  private async missing(code: string): Promise<Result<never>> {
    const stored = await this.o.storage.getSpaceByCode(normaliseCode(code));
    if (stored?.status === 'closed') return fail('SPACE_CLOSED', 'this space has closed');
    return fail('NOT_FOUND', 'no space has that join code');
  }

  /**
   * Watches a space as one display, without a connection (F5): a feed (SSE, OSC, webhooks)
   * that needs the display-rate pulses. It steps `display-joined` like a projector's socket —
   * recorded and replayed, so the machine publishes to displays while it watches — and the feed
   * reads those pulses where every display's socket gets them: the released views on the bus.
   * `presence` counts it under `feeds`, not `displays`. `onEnd` is called if the space closes.
   */
  async watch(code: string, onEnd: () => void = () => {}): Promise<Result<DisplayWatch>> {
    const live = this.byCode.get(normaliseCode(code));
    if (!live) return this.missing(code);
    const ref = this.nextRef++;
    live.watchers.set(ref, onEnd);
    this.stepIn(live, { kind: 'display-joined', at: this.o.scheduler.now(), conn: ref });
    return ok({
      spaceId: live.record.id,
      code: live.record.code,
      end: () => {
        if (!live.watchers.delete(ref) || this.byId.get(live.record.id) !== live) return;
        this.stepIn(live, { kind: 'display-left', at: this.o.scheduler.now() });
      },
    });
  }

  /** CONSENT_CHANGED (V1), naming the version agreed to (none: a session from before consent records) and the current one. */
  private consentChanged(agreed: string | undefined): Result<never> {
    const was = agreed === undefined ? 'no consent of yours is on record (your session is older than consent records)' : `you agreed to version ${agreed.slice(0, 12)}…`;
    return fail('CONSENT_CHANGED', `the consent text changed since you agreed (${was}, the current one is ${this.consentVersion.slice(0, 12)}…): read it again (GET /api/consent) and agree to continue`);
  }

  /**
   * A resume by token (W4). Unknown tokens resolve NOT_FOUND as a value (W13). A participant
   * whose last recorded consent is to an older consent text, or who has no consent on record (a
   * session from before consent records), is refused with CONSENT_CHANGED
   * (V1) — unless the resume carries the current version (`consentVersion`: they have just
   * agreed to it on their screen), which is then recorded before they re-enter.
   */
  async resume(ref: ConnRef, token: string, consentVersion?: string): Promise<Result<true>> {
    const c = this.conns.get(ref);
    if (!c) return fail('BAD_REQUEST', 'connection is gone');
    if (c.session) return fail('BAD_REQUEST', 'already joined on this connection');
    const p = await this.o.storage.getParticipantByTokenHash(participantTokenKey(token));
    if (!p) return fail('NOT_FOUND', 'that session is unknown or was erased; join again');
    if (consentVersion !== undefined && consentVersion !== this.consentVersion) return this.consentChanged(consentVersion);
    // Their join's consent record may still be committing: wait for what was asked before.
    await this.lastWrite.catch(() => {});
    // The pulse's consent only: a story's own consent step has its own text and version (ST2a).
    const agreed = (await this.o.storage.listConsents(p.id)).filter((x) => x.purposes.includes('pulse')).at(-1)?.hash;
    // A session from before consent records (none stored) is asked like a changed text: nothing
    // says what they saw, so the current text is what they must agree to.
    if (agreed !== this.consentVersion) {
      if (consentVersion !== this.consentVersion) return this.consentChanged(agreed);
      await this.o.storage.recordConsent({ participantId: p.id, at: this.o.scheduler.now(), hash: this.consentVersion, purposes: [...CONSENT_PURPOSES] });
    }
    if (!this.byId.has(p.spaceId) && this.o.cluster) await this.openStored(p.spaceId);
    const live = this.byId.get(p.spaceId);
    if (!live) {
      const stored = await this.o.storage.getSpace(p.spaceId);
      return stored?.status === 'closed' ? fail('SPACE_CLOSED', 'this space has closed') : fail('NOT_FOUND', 'that space no longer exists');
    }
    if (!this.conns.has(ref)) return fail('BAD_REQUEST', 'connection is gone');
    c.session = { spaceId: live.record.id, role: 'participant', participantId: p.id };
    const older = live.participantConn.get(p.id);
    // A resume is someone already admitted coming back — in a cluster usually from a node that
    // died, whose last partial still counts them for a moment — so only this node's own
    // connections count against the capacity here (K6).
    const r = this.stepRecorded(live, { kind: 'resumed', at: this.o.scheduler.now(), conn: ref, participantId: p.id, stored: { lastSeq: p.lastSeq, latest: p.latest, ...(p.group ? { group: p.group } : {}) } });
    if (!r) {
      c.session = null;
      return ok(true);
    }
    live.participantConn.set(p.id, ref);
    if (older !== undefined && older !== ref) this.replace(live, older);
    return ok(true);
  }

  /** Participants connected on other nodes of a cluster (§K), for the capacity check. */
  private elsewhere(live: LiveSpace): { elsewhere?: number } {
    const n = this.o.cluster?.elsewhere(live.record.id) ?? 0;
    return n > 0 ? { elsewhere: n } : {};
  }

  /** Steps an event and tells whether it was recorded (changed the state). */
  private stepRecorded(live: LiveSpace, e: SpaceEvent): boolean {
    const n = live.state.n;
    this.stepIn(live, e);
    return live.state.n > n;
  }

  /** A newer connection of the same participant replaces the older one (W4). */
  private replace(live: LiveSpace, older: ConnRef): void {
    const o = this.conns.get(older);
    if (!o?.session?.participantId) return;
    const pid = o.session.participantId;
    o.session = null;
    this.stepIn(live, { kind: 'disconnected', at: this.o.scheduler.now(), participantId: pid });
    o.sink.send(JSON.stringify({ t: 'bye', reason: 'replaced' } satisfies ServerByeMessage));
    o.sink.close(1000, 'replaced');
  }

  /** An input (W5). Text is analysed here, then discarded. */
  input(ref: ConnRef, msg: PointInputMessage | TextInputMessage, exposed: boolean): Result<true> {
    const c = this.conns.get(ref);
    if (!c?.session || c.leaving) return fail('NOT_JOINED', 'join or resume first');
    if (c.session.role !== 'participant' || !c.session.participantId) return fail('NOT_JOINED', 'only a joined participant can send input');
    const live = this.byId.get(c.session.spaceId);
    if (!live) return fail('SPACE_CLOSED', 'this space has closed');
    const at = this.o.scheduler.now();
    // W5b: while the database is behind, an input is refused before it costs anything (text
    // analysis, the machine, a queued write): the pulse goes on, and the backlog drains.
    if (this.backlog.over(this.writeClock()) !== null) return fail('OVERLOADED', 'the server is busy storing inputs; this one was not counted: send it again in a few seconds');
    // The space's template may allow only some inputs (Q14).
    const allowed = live.state.gov.settings?.inputs;
    const source = 'text' in msg ? 'text' : msg.source === 'heart' ? 'heart' : 'tap';
    if (allowed && !allowed[source]) return fail('BAD_REQUEST', `this space does not take ${source === 'tap' ? 'taps' : source === 'text' ? 'words' : 'heart-rate'} inputs`);
    let affect: Affect;
    if ('text' in msg) {
      if (!this.o.analyseText) return fail('BAD_REQUEST', 'this server does not analyse text');
      const r = this.o.analyseText(msg.text);
      affect = { valence: r.valence, arousal: r.arousal, confidence: r.confidence, source: 'text', at };
    } else {
      affect = { valence: msg.valence, arousal: msg.arousal, confidence: msg.confidence, source: msg.source, at };
    }
    const bad = checkAffect(affect);
    if (bad) return fail('BAD_REQUEST', bad);
    const heartBpm = 'heart' in msg && msg.source === 'heart' ? msg.heart?.bpm : undefined;
    this.stepIn(live, { kind: 'input', at, conn: ref, participantId: c.session.participantId, seq: msg.seq, affect, exposed, ...(heartBpm !== undefined ? { heartBpm } : {}) });
    return ok(true);
  }

  /** A participant chooses, changes or drops (null) their group (R6); answered once stored. */
  setGroup(ref: ConnRef, group: string | null): Result<true> {
    const c = this.conns.get(ref);
    if (!c?.session || c.leaving || c.session.role !== 'participant' || !c.session.participantId) return fail('NOT_JOINED', 'join or resume first');
    const live = this.byId.get(c.session.spaceId);
    if (!live) return fail('SPACE_CLOSED', 'this space has closed');
    this.stepIn(live, { kind: 'group-changed', at: this.o.scheduler.now(), conn: ref, participantId: c.session.participantId, group });
    return ok(true);
  }

  /** Bye (W7): the point leaves the pulse now; the connection closes once that is durable. */
  leave(ref: ConnRef): void {
    const c = this.conns.get(ref);
    if (!c) return;
    if (!c.session?.participantId) {
      c.sink.close(1000, 'bye');
      return;
    }
    const live = this.byId.get(c.session.spaceId);
    c.leaving = true;
    if (!live) {
      c.sink.close(1000, 'bye');
      return;
    }
    this.stepIn(live, { kind: 'left', at: this.o.scheduler.now(), conn: ref, participantId: c.session.participantId });
  }

  // ——— a participant's own data (V1–V3; the HTTP edge, authorised by their resume token) ———

  /** A participant by resume token, or a coded failure. */
  private async participantByToken(token: string | null): Promise<Result<ParticipantRecord>> {
    if (!token) return fail('UNAUTHORIZED', 'send your session key as Authorization: Bearer <token>');
    const p = await this.o.storage.getParticipantByTokenHash(participantTokenKey(token));
    return p ? ok(p) : fail('NOT_FOUND', 'that session is unknown or was erased');
  }

  /**
   * A participant agrees (again) to a consent text (V1): the pulse's consent screen, or a story's
   * own consent step (`stories`, ST2) — only to the current version. Recorded durably before the
   * answer: which text (its SHA-256), when, for what.
   */
  async consentAgain(token: string | null, version: string, purpose: 'pulse' | 'stories' = 'pulse'): Promise<Result<{ version: string; purposes: ConsentPurpose[] }>> {
    const found = await this.participantByToken(token);
    if (!found.ok) return found;
    const current = purpose === 'stories' ? this.storyConsentVersion : this.consentVersion;
    if (version !== current) return fail('CONSENT_REQUIRED', `that is not the current ${purpose === 'stories' ? 'story consent' : 'consent'} text; reload the page and read it again`);
    const purposes: ConsentPurpose[] = purpose === 'stories' ? [...STORY_CONSENT_PURPOSES] : [...CONSENT_PURPOSES];
    await this.drain();
    await this.o.storage.recordConsent({ participantId: found.value.id, at: this.o.scheduler.now(), hash: version, purposes });
    return ok({ version, purposes });
  }

  /** Whether a participant's latest `stories` consent is to the current story consent text (ST2). */
  private async storyConsentState(participantId: string): Promise<'agreed' | 'never' | 'changed'> {
    const consents = await this.o.storage.listConsents(participantId);
    const last = consents.filter((c) => c.purposes.includes('stories')).at(-1);
    return !last ? 'never' : last.hash === this.storyConsentVersion ? 'agreed' : 'changed';
  }

  /** Everything stored about a participant (V2): the JSON export and their inputs as records for EmotionML (formatted at the edge). */
  async exportParticipant(token: string | null): Promise<Result<{ json: Record<string, unknown>; records: { valence: number; arousal: number; confidence: number; source: Affect['source']; at: number; id: string }[] }>> {
    await this.drain();
    const found = await this.participantByToken(token);
    if (!found.ok) return found;
    const p = found.value;
    const space = await this.o.storage.getSpace(p.spaceId);
    const inputs = await this.o.storage.listParticipantInputs(p.id);
    const consents = await this.o.storage.listConsents(p.id);
    const json = {
      what: 'everything attune stores about you in this space (PRIVACY.md)',
      exportedAt: this.o.scheduler.now(),
      space: space ? { code: space.code, name: space.name, status: space.status, closedAt: space.closedAt } : null,
      participant: { id: p.id, joinedAt: p.joinedAt, lastSeq: p.lastSeq, latest: p.latest, group: p.group ?? null, tokenHash: p.tokenHash },
      consents: consents.map((c) => ({ at: c.at, version: c.hash, purposes: c.purposes })),
      inputs: inputs.map((i) => ({ seq: i.seq, at: i.affect.at, valence: i.affect.valence, arousal: i.affect.arousal, confidence: i.affect.confidence, source: i.affect.source, exposed: i.exposed, shown: i.shown, ...(i.heartBpm !== undefined ? { heartBpm: i.heartBpm } : {}) })),
    };
    const records = inputs.map((i) => ({ valence: i.affect.valence, arousal: i.affect.arousal, confidence: i.affect.confidence, source: i.affect.source, at: i.affect.at, id: `input-${i.seq}` }));
    return ok({ json, records });
  }

  /**
   * Erases a participant (V2): in an open space their point leaves the pulse at once (an `erased`
   * event through the machine) and their connections close; then their inputs, point, consents,
   * events, session and sealing key are deleted. Resolves once that is durable.
   */
  async eraseParticipant(token: string | null): Promise<Result<{ erased: true; inputs: number }>> {
    const found = await this.participantByToken(token);
    if (!found.ok) return found;
    const p = found.value;
    const live = this.byId.get(p.spaceId);
    let done: Promise<{ readonly inputs: number }>;
    if (live) {
      for (const c of this.conns.values()) {
        if (c.session?.participantId !== p.id) continue;
        c.session = null;
        c.sink.send(JSON.stringify({ t: 'bye', reason: 'left' }));
        c.sink.close(1000, 'bye');
      }
      live.participantConn.delete(p.id);
      this.stepIn(live, { kind: 'erased', at: this.o.scheduler.now(), participantId: p.id });
      done = this.erasures.get(p.id) ?? this.o.storage.eraseParticipant(p.id);
      this.erasures.delete(p.id);
    } else {
      done = this.o.storage.eraseParticipant(p.id);
    }
    try {
      const r = await done;
      return ok({ erased: true, inputs: r.inputs });
    } catch (e) {
      this.report('could not erase a participant', e);
      return fail('UNAVAILABLE', 'could not erase now; try again');
    }
  }

  /** The connection ended (their point stays until its TTL). */
  detach(ref: ConnRef): void {
    const c = this.conns.get(ref);
    if (!c) return;
    this.conns.delete(ref);
    const s = c.session;
    c.session = null;
    if (!s) return;
    const live = this.byId.get(s.spaceId);
    if (!live) return;
    const at = this.o.scheduler.now();
    if (s.role === 'display') this.stepIn(live, { kind: 'display-left', at });
    else if (s.participantId) {
      if (live.participantConn.get(s.participantId) === ref) live.participantConn.delete(s.participantId);
      this.stepIn(live, { kind: 'disconnected', at, participantId: s.participantId });
    }
  }

  // ——— spaces (the HTTP edge) ———

  /** Creates a space (H1): stored, logged (`space.created`), then opened. */
  async createSpace(req: { name: string; capacity?: number | undefined; ttlSeconds?: number | undefined; retentionDays?: number | undefined; groups?: readonly string[] | undefined; template?: unknown; /** Internal (rehearsals, F6): reuse a recording's noise seed. Never from HTTP. */ noiseSeed?: string }): Promise<Result<CreatedSpace>> {
    if (req.template !== undefined) return this.createFromTemplate({ ...req, template: req.template });
    const checked = checkSpaceName(req.name);
    if (!checked.ok) return fail('BAD_REQUEST', `name: ${checked.message}`);
    const name = checked.name;
    const named = checkGroupNames(req.groups ?? []);
    if (!named.ok) return fail('BAD_REQUEST', `groups: ${named.message}`);
    const groups = named.value;
    const capacity = req.capacity ?? this.capacity;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > this.maxCapacity) return fail('BAD_REQUEST', `capacity must be an integer in [1, ${this.maxCapacity}]`);
    const ttlMs = req.ttlSeconds === undefined ? this.ttlMs : req.ttlSeconds * 1000;
    if (!Number.isFinite(ttlMs) || ttlMs < 5000 || ttlMs > 86_400_000) return fail('BAD_REQUEST', 'ttlSeconds must be in [5, 86400]');
    // V3: fixed at creation, so what a space promised its participants never changes with the server's setting.
    let retentionMs = this.retentionMs;
    if (req.retentionDays !== undefined) {
      const r = checkRetentionDays(req.retentionDays);
      if (!r.ok) return fail('BAD_REQUEST', r.message);
      retentionMs = r.ms;
    }
    const stewardToken = newToken();
    for (let attempt = 0; attempt < 5; attempt++) {
      const space: SpaceRecord = { id: newId(), code: newCode(), name, status: 'open', capacity, ttlMs, stewardTokenHash: hashToken(stewardToken), createdAt: this.o.scheduler.now(), closedAt: null, ...(groups.length ? { groups } : {}), retentionMs, purgedAt: null };
      if (!(await this.o.storage.createSpace(space))) continue;
      const noiseSeed = req.noiseSeed ?? randomBytes(32).toString('hex');
      try {
        await this.o.storage.setSpaceSecret(space.id, noiseSeed);
        await this.o.governance.record({ type: 'space.created', space: space.id, at: space.createdAt, payload: { name, capacity, ttlMs, ...(groups.length ? { groups } : {}), retentionDays: retentionMs / DAY_MS } });
      } catch (e) {
        // Never open a space the public log does not know: it stays closed, unreachable.
        this.report('could not log space.created; the space was not opened', e);
        await this.o.storage.closeSpace(space.id, space.createdAt).catch(() => {});
        return fail('UNAVAILABLE', 'the public log is unavailable, so the space was not created; try again');
      }
      const live = this.adopt(space, createSpaceState(this.settingsOf(space, noiseSeed), this.options));
      this.stepIn(live, { kind: 'started', at: space.createdAt, pulseSeq: 0 });
      this.beginTicking(live);
      await this.o.cluster?.opened(space.id);
      return ok({ space, stewardToken });
    }
    return fail('INTERNAL', 'could not allocate a join code');
  }

  /**
   * Creates a space from a template (Q14): checked with the same rules and codes as the API, the
   * space created with the template's capacity, TTL and groups (the request's own values win),
   * then — each an act on the public log — the template recorded (`space.template`), its council
   * created, its display mode chosen, its policies proposed by the steward for the council to
   * vote on, and its stories settings applied (`stories.settings`, ST1). A failing act stops
   * there and is reported (the space exists, partly set up).
   */
  private async createFromTemplate(req: { name: string; capacity?: number | undefined; ttlSeconds?: number | undefined; retentionDays?: number | undefined; groups?: readonly string[] | undefined; template: unknown }): Promise<Result<CreatedSpace>> {
    const t = checkSpaceTemplate(req.template);
    if (!t.ok) return fail(t.problem.code, `template: ${t.problem.message}`);
    const tpl = t.template;
    const made = await this.createSpace({
      name: req.name,
      capacity: req.capacity ?? tpl.capacity ?? undefined,
      ttlSeconds: req.ttlSeconds ?? tpl.ttlSeconds ?? undefined,
      retentionDays: req.retentionDays ?? tpl.retentionDays ?? undefined,
      groups: req.groups?.length ? req.groups : tpl.groups,
    });
    if (!made.ok) return made;
    const live = this.byId.get(made.value.space.id);
    if (!live) return fail('SPACE_CLOSED', 'the space closed before its template was applied');
    const steps: SpaceAct[] = [{ kind: 'space-template', template: tpl.name, inputs: tpl.inputs, words: tpl.words }];
    if (tpl.council) steps.push({ kind: 'council-create', councilId: newId(), rules: tpl.council });
    if (tpl.displayMode && isDisplayMode(tpl.displayMode)) steps.push({ kind: 'display-mode', mode: tpl.displayMode, by: { steward: true } });
    for (const policy of tpl.policies) steps.push({ kind: 'policy-propose', proposalId: newId(), by: 'steward', policy });
    for (const a of steps) {
      const r = await this.act(live, a);
      if (!r.ok) return fail(r.code, `the space ${made.value.space.code} was created, but its template was applied only in part: ${r.message}`);
    }
    // The template's stories settings (ST1): an act like the steward's, logged before it applies.
    const stories = tpl.stories;
    if (stories) {
      const r = await this.storyRequest(live, { kind: 'act', act: { kind: 'story-settings', settings: stories } });
      if (!r.ok) return fail(r.code, `the space ${made.value.space.code} was created, but its template was applied only in part: ${r.message}`);
    }
    return made;
  }

  /** What the space's template allows and calls things (Q14), or null. */
  templateOf(spaceId: string): GovernanceState['settings'] {
    return this.byId.get(spaceId)?.state.gov.settings ?? null;
  }

  /** A space by its (normalised) join code: the live record of an open space, else storage's. */
  async spaceByCode(code: string): Promise<SpaceRecord | null> {
    const norm = normaliseCode(code);
    const live = this.byCode.get(norm);
    if (live) return live.record;
    const stored = await this.o.storage.getSpaceByCode(norm);
    // A cluster space another node created, asked about here before its announcement arrived (§K):
    // it opens here now, as on its first join, so a steward's or participant's request is served.
    if (stored?.status === 'open' && this.o.cluster && (await this.openStored(stored.id))) return this.byId.get(stored.id)?.record ?? stored;
    return stored;
  }

  /** Every space, newest last. */
  listSpaces(): Promise<SpaceRecord[]> {
    return this.o.storage.listSpaces();
  }

  /** Checks a steward token against a space (constant time). */
  async authorise(code: string, stewardToken: string | null | undefined): Promise<Result<SpaceRecord>> {
    let space = await this.spaceByCode(code);
    if (!space) return fail('NOT_FOUND', 'no such space');
    if (!stewardToken) return fail('UNAUTHORIZED', 'a valid steward token is required');
    const h = hashToken(stewardToken);
    // On a cluster, a token rotated through another node a moment ago may not have reached this
    // node's copy yet (K6): read the stored record once before refusing.
    if (!sameHash(h, space.stewardTokenHash) && this.o.cluster && this.byId.has(space.id)) {
      await this.syncSteward(space.id);
      space = (await this.spaceByCode(code)) ?? space;
    }
    if (!sameHash(h, space.stewardTokenHash)) return fail('UNAUTHORIZED', 'a valid steward token is required');
    return ok(space);
  }

  /**
   * An act asked for by someone. On a cluster space a council act goes to the node that owns the
   * tick (K12), which takes it; this node then reads the governance it stored back, so what the
   * caller reads next includes the act.
   */
  private act(live: LiveSpace, act: SpaceAct): Promise<Result<true>> {
    const away = this.o.cluster && isCouncilAct(act) ? this.o.cluster.forward(live.record.id, act) : null;
    if (!away) return this.actHere(live, act);
    return away.then(async (r) => {
      if (r.ok) await this.syncGovernance(live.record.id);
      return r;
    });
  }

  /** Takes an act on this node, after the ones asked for before it (Q10). */
  private actHere(live: LiveSpace, act: SpaceAct): Promise<Result<true>> {
    const run = async (): Promise<Result<true>> => {
      const reply = this.nextRef++;
      const done = new Promise<Result<true>>((res) => this.replies.set(reply, res));
      // An adoption is decided by the machine and logged right after the vote that reaches the
      // quorum: wait for it, so the answer says what happened.
      const adoption = act.kind === 'policy-vote' && this.reachesQuorum(live, act) ? this.adoptionOf(live, act.proposalId) : null;
      try {
        this.stepIn(live, { kind: 'act-requested', at: this.o.scheduler.now(), act, reply });
        const r = await done;
        if (r.ok && adoption) await adoption.settled;
        return r;
      } finally {
        adoption?.stop();
      }
    };
    const next = live.acts.then(run, run);
    live.acts = next;
    return next;
  }

  // ——— councils and policies (SPEC §Q) ———

  /** Listens to every applied act (feeds: webhooks, the display-mode book). */
  listenActs(l: (spaceId: string, e: Extract<SpaceEvent, { kind: 'act-logged' | 'act-failed' }>) => void): { dispose(): void } {
    this.actListeners.add(l);
    return { dispose: () => this.actListeners.delete(l) };
  }

  /**
   * Listens to a cluster space's governance read back from storage after another node applied an
   * act (K12: `governance-synced`), which {@link listenActs} does not hear: the display-mode book
   * follows it, so every node's SSE streams see a mode chosen through any node.
   */
  listenGovernanceSynced(l: (spaceId: string, at: number) => void): { dispose(): void } {
    this.syncListeners.add(l);
    return { dispose: () => this.syncListeners.delete(l) };
  }

  private async liveFor(code: string, stewardToken: string | null | undefined): Promise<Result<LiveSpace>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    return live ? ok(live) : fail('SPACE_CLOSED', 'the space has closed');
  }

  /** The live space and member a member token names (constant-time hash comparison). */
  private async memberFor(code: string, memberToken: string | null | undefined): Promise<Result<{ live: LiveSpace; member: Member }>> {
    const space = await this.spaceByCode(code);
    if (!space) return fail('NOT_FOUND', 'no such space');
    const live = this.byId.get(space.id);
    if (!live) return fail('SPACE_CLOSED', 'the space has closed');
    if (!memberToken) return fail('UNAUTHORIZED', 'a council member token is required');
    const h = hashToken(memberToken);
    const find = () => {
      let found: Member | null = null;
      for (const m of live.state.gov.members.values()) if (sameHash(h, m.tokenHash)) found = m;
      return found;
    };
    let found = find();
    // On a cluster, a member invited through another node a moment ago may not have reached this
    // node's copy yet (K12): read the stored council once before refusing.
    if (!found && this.o.cluster) {
      await this.syncGovernance(space.id);
      found = find();
    }
    return found ? ok({ live, member: found }) : fail('UNAUTHORIZED', 'that member token is not (or no longer) valid');
  }

  /** The steward creates the space's council (Q1): logged (`council.created`), then in force. */
  async createCouncil(code: string, stewardToken: string | null | undefined, rules: unknown): Promise<Result<{ readonly council: string; readonly rules: CouncilRules }>> {
    const l = await this.liveFor(code, stewardToken);
    if (!l.ok) return l;
    const checked = checkRules(rules);
    if (!checked.ok) return fail('BAD_REQUEST', `rules: ${checked.message}`);
    const councilId = newId();
    const r = await this.act(l.value, { kind: 'council-create', councilId, rules: checked.rules });
    return r.ok ? ok({ council: councilId, rules: checked.rules }) : r;
  }

  /** The steward invites a member (Q1): the token is returned once and stored only as its hash. */
  async addMember(code: string, stewardToken: string | null | undefined, name: unknown): Promise<Result<{ readonly member: string; readonly name: string; readonly memberToken: string }>> {
    const l = await this.liveFor(code, stewardToken);
    if (!l.ok) return l;
    const n = checkMemberName(name);
    if (!n.ok) return fail('BAD_REQUEST', n.message);
    const memberToken = newToken();
    const memberId = newId();
    const r = await this.act(l.value, { kind: 'member-add', memberId, name: n.name, tokenHash: hashToken(memberToken) });
    return r.ok ? ok({ member: memberId, name: n.name, memberToken }) : r;
  }

  /** The steward removes a member (Q1); their token stops working once logged. */
  async removeMember(code: string, stewardToken: string | null | undefined, memberId: string): Promise<Result<true>> {
    const l = await this.liveFor(code, stewardToken);
    if (!l.ok) return l;
    return this.act(l.value, { kind: 'member-remove', memberId, by: { steward: true } });
  }

  /** Who a member token belongs to. */
  async whoIs(code: string, memberToken: string | null | undefined): Promise<Result<{ readonly member: string; readonly name: string }>> {
    const m = await this.memberFor(code, memberToken);
    return m.ok ? ok({ member: m.value.member.id, name: m.value.member.name }) : m;
  }

  /**
   * A member proposes a policy (checked now against the schema and bounds, Q3–Q5), a change of
   * an active policy (`amends`), or new council rules (Q2).
   */
  async propose(code: string, memberToken: string | null | undefined, body: { readonly policy?: unknown; readonly rules?: unknown; readonly amends?: string | undefined }): Promise<Result<{ readonly proposal: string; readonly expiresAt: number }>> {
    const m = await this.memberFor(code, memberToken);
    if (!m.ok) return m;
    const { live, member } = m.value;
    const council = live.state.gov.council;
    if (!council) return fail('NOT_FOUND', 'this space has no council');
    const proposalId = newId();
    let act: SpaceAct;
    if (body.rules !== undefined) {
      const r = checkRules(body.rules);
      if (!r.ok) return fail('BAD_REQUEST', `rules: ${r.message}`);
      act = { kind: 'rules-propose', proposalId, by: member.id, rules: r.rules };
    } else {
      const c = checkPolicy(body.policy, live.record.groups ?? [], council.rules.prompts.length);
      if (!c.ok) return fail(c.problem.code, c.problem.message);
      act = { kind: 'policy-propose', proposalId, by: member.id, policy: c.spec, ...(body.amends ? { amends: body.amends } : {}) };
    }
    const at = this.o.scheduler.now();
    const r = await this.act(live, act);
    return r.ok ? ok({ proposal: proposalId, expiresAt: at + council.rules.proposalSeconds * 1000 }) : r;
  }

  /** Whether this vote, added to the proposal's, reaches its quorum. */
  private reachesQuorum(live: LiveSpace, act: Extract<SpaceAct, { kind: 'policy-vote' }>): boolean {
    const g = live.state.gov;
    const p = g.proposals.get(act.proposalId);
    if (!p || !g.council || act.vote !== 'yes') return false;
    const yes = Object.values(p.votes).filter((x) => x === 'yes').length + 1;
    return yes >= votesNeeded(g.council.rules, g.members.size);
  }

  /** Settles once the proposal's adoption is applied (or after 5 s, if it never comes). */
  private adoptionOf(live: LiveSpace, proposalId: string): { readonly settled: Promise<void>; stop(): void } {
    let stop: { dispose(): void } | null = null;
    let timer: Cancel | null = null;
    const settled = new Promise<void>((res) => {
      stop = this.listenActs((id, e) => {
        if (id === live.record.id && e.act.kind === 'policy-adopt' && e.act.proposalId === proposalId) res();
      });
      timer = this.o.scheduler.at(this.o.scheduler.now() + 5000, res);
    });
    return {
      settled,
      stop: () => {
        (stop as { dispose(): void } | null)?.dispose();
        (timer as Cancel | null)?.cancel();
      },
    };
  }

  /** A member votes (Q2); adoption follows, logged, as soon as the quorum is reached before expiry. */
  async vote(code: string, memberToken: string | null | undefined, proposalId: string, vote: 'yes' | 'no'): Promise<Result<{ readonly proposal: string; readonly status: string }>> {
    const m = await this.memberFor(code, memberToken);
    if (!m.ok) return m;
    const { live } = m.value;
    const r = await this.act(live, { kind: 'policy-vote', proposalId, memberId: m.value.member.id, vote });
    if (!r.ok) return r;
    return ok({ proposal: proposalId, status: live.state.gov.proposals.get(proposalId)?.status ?? 'open' });
  }

  /** The steward or any member retires an active policy (Q6): stopping is never harder than starting. */
  async retirePolicy(code: string, token: string | null | undefined, policyId: string): Promise<Result<true>> {
    const asSteward = await this.authorise(code, token);
    if (asSteward.ok) {
      const live = this.byId.get(asSteward.value.id);
      if (!live) return fail('SPACE_CLOSED', 'the space has closed');
      return this.act(live, { kind: 'policy-retire', policyId, by: { steward: true } });
    }
    const m = await this.memberFor(code, token);
    if (!m.ok) return fail('UNAUTHORIZED', 'the steward token or a council member token is required');
    return this.act(m.value.live, { kind: 'policy-retire', policyId, by: { member: m.value.member.id } });
  }

  /**
   * The notifications policies sent (Q5, Q13), numbered per space: every one for the steward, those
   * addressed to the council for a member's token; oldest first, only those numbered above `after`.
   */
  async notifications(code: string, token: string | null | undefined, after = 0): Promise<Result<{ readonly audience: 'steward' | 'council'; readonly latest: number; readonly notifications: readonly PolicyNotice[] }>> {
    let live: LiveSpace | undefined;
    let audience: 'steward' | 'council';
    const asSteward = await this.authorise(code, token);
    if (asSteward.ok) {
      live = this.byId.get(asSteward.value.id);
      if (!live) return fail('SPACE_CLOSED', 'the space has closed');
      audience = 'steward';
    } else {
      const m = await this.memberFor(code, token);
      if (!m.ok) return m.code === 'UNAUTHORIZED' ? fail('UNAUTHORIZED', 'the steward token or a council member token is required') : m;
      live = m.value.live;
      audience = 'council';
    }
    const g = live.state.gov;
    const notifications = g.notices.filter((x) => x.n > after && (audience === 'steward' || x.audience === 'council')).reverse();
    return ok({ audience, latest: g.noticeSeq, notifications });
  }

  /** The newest notification of an open space (the signed `notify` webhook sends it), or null. */
  latestNotice(spaceId: string): PolicyNotice | null {
    return this.byId.get(spaceId)?.state.gov.notices[0] ?? null;
  }

  /** The steward sets the feedback by hand (e.g. back to mirror at once): `feedback.changed`. */
  async setFeedback(code: string, stewardToken: string | null | undefined, mode: FeedbackMode, minutes: number | null): Promise<Result<true>> {
    const l = await this.liveFor(code, stewardToken);
    if (!l.ok) return l;
    if (minutes !== null && !(Number.isFinite(minutes) && minutes >= 1 && minutes <= 30)) return fail('POLICY_BOUNDS', 'minutes must be in [1, 30] (or null: until changed)');
    return this.act(l.value, { kind: 'feedback-set', slot: 'feedback', at: this.o.scheduler.now(), mode, minutes: mode === 'mirror' ? null : minutes, by: { steward: true } });
  }

  /** The steward chooses the display mode (issue 15): an act on the public log (`display.changed`), then in the released view. */
  async setDisplayMode(code: string, stewardToken: string | null | undefined, mode: DisplayMode): Promise<Result<true>> {
    const l = await this.liveFor(code, stewardToken);
    if (!l.ok) return l;
    return this.act(l.value, { kind: 'display-mode', mode, by: { steward: true } });
  }

  /** The display mode in force for an open space (the default for others). */
  displayModeOf(spaceId: string): { readonly mode: DisplayMode; readonly by: string; readonly at: number; readonly entry: number | null } {
    const d = this.byId.get(spaceId)?.state.gov.display;
    if (!d) return { mode: 'field', by: 'default', at: 0, entry: null };
    const mode = d.override?.mode ?? d.mode;
    return { mode, by: d.override?.mode ? 'policy' : d.by, at: d.since, entry: d.override?.mode ? d.override.entry : d.entry };
  }

  /** A participant opts out of (or back into) adaptive feedback (Q8), by their resume token. */
  async optOut(participantToken: string | null | undefined, optOut: boolean): Promise<Result<{ readonly optOut: boolean }>> {
    if (!participantToken) return fail('UNAUTHORIZED', 'your participant token is required');
    const p = await this.o.storage.getParticipantByTokenHash(participantTokenKey(participantToken));
    if (!p) return fail('NOT_FOUND', 'that session is unknown or was erased');
    const live = this.byId.get(p.spaceId);
    if (!live) return fail('SPACE_CLOSED', 'this space has closed');
    this.stepIn(live, { kind: 'feedback-opted', at: this.o.scheduler.now(), participantId: p.id, optOut });
    await this.drain();
    this.o.cluster?.optedOut(live.record.id, p.id, optOut);
    return ok({ optOut });
  }

  /** A participant opted out (or back in) through another node of the cluster (K12): this node's set follows. */
  relayOptOut(spaceId: string, participantId: string, optOut: boolean): void {
    const live = this.byId.get(spaceId);
    if (live) this.stepIn(live, { kind: 'feedback-opted', at: this.o.scheduler.now(), participantId, optOut });
  }

  /** How many reflection prompts the space's council approved (0 without a council). */
  councilPrompts(spaceId: string): number {
    return this.byId.get(spaceId)?.state.gov.council?.rules.prompts.length ?? 0;
  }

  /**
   * A dry run of a proposed policy over this space's recorded session so far (Q11a): when it
   * would have fired, and the figures it reads over time. Nothing is logged or changed.
   */
  async dryRun(code: string, policy: unknown): Promise<Result<DryRunReport>> {
    await this.drain();
    const session = await loadSession(this.o.storage, normaliseCode(code));
    if (!session) return fail('NOT_FOUND', 'no such space');
    const { space, events, inputs } = session;
    const options = recordedOptions(events) ?? this.options;
    const r = dryRun(policy, this.settingsOf(space, session.noiseSeed), options, events, inputs);
    return r.ok ? ok(r.report) : fail(r.problem.code, r.problem.message);
  }

  /**
   * The council's public view (Q1, Q8): rules, members (names), proposals and votes, policies,
   * the feedback and display in force, recent notices, and the opt-out count — released only
   * when 0 or at least the minimum cohort (R1), else null.
   */
  councilView(spaceId: string): Result<Record<string, unknown>> {
    const live = this.byId.get(spaceId);
    if (!live) return fail('SPACE_CLOSED', 'this space has closed');
    const g = live.state.gov;
    const k = this.options.release.minCohort;
    // On a cluster, the tick owner's figures (K12): one count for the whole space, on every node.
    const figures = this.o.cluster?.figures(spaceId) ?? { optedOut: g.optedOut.size, evalErrors: g.evalErrors };
    const opted = figures.optedOut;
    const fields = governanceFields(g);
    return ok({
      space: live.record.code,
      council: g.council ? { id: g.council.id, createdAt: g.council.createdAt, rules: g.council.rules, needed: votesNeeded(g.council.rules, g.members.size) } : null,
      members: [...g.members.values()].map((m) => ({ id: m.id, name: m.name, addedAt: m.addedAt })),
      proposals: [...g.proposals.values()].map((p) => ({ ...p, yes: Object.values(p.votes).filter((v) => v === 'yes').length, no: Object.values(p.votes).filter((v) => v === 'no').length })),
      policies: [...g.policies.values()].map((p) => ({ id: p.id, version: p.version, status: p.status, adoptedAt: p.adoptedAt, retiredAt: p.retiredAt, lastFiredAt: p.lastFiredAt, fired: p.fired, cooldownUntil: p.lastFiredAt === null ? null : p.lastFiredAt + p.spec.cooldownSeconds * 1000, ...p.spec })),
      feedback: fields.feedback,
      display: fields.display,
      // The notifications themselves are read with a token (`notifications`): this says how many were sent.
      notifications: g.noticeSeq,
      settings: g.settings,
      optOuts: opted === 0 || opted >= k ? opted : null,
      evalErrors: figures.evalErrors,
    });
  }

  /** Closes a space (H3): logged first, then closed; connected clients get `bye`. */
  async closeSpace(code: string, stewardToken: string | null | undefined): Promise<Result<SpaceRecord>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    if (!live) return fail('SPACE_CLOSED', 'the space is already closed');
    const r = await this.act(live, { kind: 'close' });
    return r.ok ? ok(live.record) : r;
  }

  /** Replaces the steward token (H4): logged first; the old token stops working. */
  async rotateStewardToken(code: string, stewardToken: string | null | undefined): Promise<Result<string>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    if (!live) return fail('SPACE_CLOSED', 'the space has closed; its steward token can no longer change');
    const token = newToken();
    const r = await this.act(live, { kind: 'steward-changed', tokenHash: hashToken(token), reason: 'rotated' });
    return r.ok ? ok(token) : r;
  }

  /**
   * This space's steward agrees (or stops agreeing) to be linked with another open space
   * (docs/bridging.md): an act on the public log (`space.linked` / `space.unlinked`), applied once
   * logged. Two spaces are linked while each steward agrees. Returns whether the link is mutual now.
   */
  async link(code: string, stewardToken: string | null | undefined, otherCode: string, agree: boolean): Promise<Result<{ readonly linked: boolean; readonly with: string }>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    if (!live) return fail('SPACE_CLOSED', 'the space has closed');
    const other = this.byCode.get(normaliseCode(otherCode));
    if (!other) return fail('NOT_FOUND', 'no open space has that code');
    if (other === live) return fail('BAD_REQUEST', 'a space cannot be linked with itself');
    const r = await this.act(live, { kind: 'link', other: other.record.id, otherCode: other.record.code, agree });
    if (!r.ok) return r;
    return ok({ linked: this.linked(live, other), with: other.record.code });
  }

  private linked(a: LiveSpace, b: LiveSpace): boolean {
    return a.state.links.has(b.record.id) && b.state.links.has(a.record.id);
  }

  /** Codes of the open spaces this space is mutually linked with. */
  linksOf(spaceId: string): string[] {
    const live = this.byId.get(spaceId);
    if (!live) return [];
    return [...live.state.links.keys()].flatMap((id) => {
      const o = this.byId.get(id);
      return o && this.linked(live, o) ? [o.record.code] : [];
    });
  }

  /**
   * Linked spaces side by side (the compare view): each one's last released pulse and the
   * bridging measures between them, read off their released histograms only. Every pair must be
   * linked by both stewards.
   */
  compare(codes: readonly string[]): Result<{ readonly spaces: readonly { readonly code: string; readonly name: string; readonly pulse: PulseView | null }[]; readonly bridging: Bridging | null }> {
    const lives: LiveSpace[] = [];
    for (const c of codes) {
      const l = this.byCode.get(normaliseCode(c));
      if (!l) return fail('NOT_FOUND', `no open space has the code ${c}`);
      if (lives.includes(l)) return fail('BAD_REQUEST', 'a space is named twice');
      lives.push(l);
    }
    for (let i = 0; i < lives.length; i++) for (let j = i + 1; j < lives.length; j++) if (!this.linked(lives[i] as LiveSpace, lives[j] as LiveSpace)) return fail('NOT_FOUND', 'these spaces are not linked by both stewards');
    const spaces = lives.map((l) => ({ code: l.record.code, name: l.record.name, pulse: l.state.lastView }));
    const bins = lives[0]?.state.pulse.grid.bins ?? this.options.bins;
    const bridging = bridgingOf(
      spaces.map((s) => s.code),
      spaces.map((s) => (s.pulse && !s.pulse.suppressed ? s.pulse.hist : null)),
      bins,
    );
    return ok({ spaces, bridging });
  }

  /** Public description of a space. */
  info(space: SpaceRecord): SpaceInfo {
    return { code: space.code, name: space.name, status: space.status, capacity: space.capacity, ttlMs: space.ttlMs, ...(space.groups?.length ? { groups: space.groups } : {}) };
  }

  /**
   * A space's retention (V3, H2): days kept after it closes, the date its raw data is due for
   * deletion (null while open) and when it was deleted (null while kept).
   */
  retentionOf(space: SpaceRecord): { readonly retentionDays: number; readonly retainUntil: number | null; readonly purgedAt: number | null } {
    return { retentionDays: (space.retentionMs ?? this.retentionMs) / DAY_MS, retainUntil: retentionDue(space, this.retentionMs), purgedAt: space.purgedAt ?? null };
  }

  /** Live figures of an open space (people counted, participants connected, display sockets, feeds watching as displays). */
  presence(spaceId: string): { present: number; connected: number; displays: number; feeds: number } {
    const live = this.byId.get(spaceId);
    if (!live) return { present: 0, connected: 0, displays: 0, feeds: 0 };
    // Feeds watch on this node; the cluster's figures (H2) count them among its displays.
    const feeds = live.watchers.size;
    const whole = this.o.cluster?.presence(spaceId);
    if (whole) return { ...whole, displays: Math.max(0, whole.displays - whole.feeds) };
    return { present: live.state.pulse.count, connected: live.state.connected, displays: Math.max(0, live.state.displays - feeds), feeds };
  }

  /** Feeds watching an open space on this node as displays (F5), counted among its displays. */
  feedWatches(spaceId: string): number {
    return this.byId.get(spaceId)?.watchers.size ?? 0;
  }

  /** Whether this host applied the close of the space (a cluster's other nodes only retire it, §K). */
  closedHere(spaceId: string): boolean {
    return this.closedOnThisHost.has(spaceId);
  }

  /** The last published pulse of an open space, as sent (H5): a read never steps the machine. */
  latestPulse(spaceId: string): Uint8Array | null {
    return this.byId.get(spaceId)?.lastBytes ?? null;
  }

  /** The machine state of an open space (read only: tests, metrics). */
  stateOf(spaceId: string): Readonly<SpaceState> | null {
    return this.byId.get(spaceId)?.state ?? null;
  }

  /**
   * Logs a DP release's `privacy.release` entry (R8) before the release is stored or answered:
   * through the space's machine (an act: `logAct`, then `act-logged`) while the space is open;
   * once it has closed its machine no longer runs, and the host appends the same entry itself.
   * Resolves ok once the entry is durable, or UNAVAILABLE when the log failed (nothing released).
   */
  async logPrivacyRelease(spaceId: string, entry: Readonly<Record<string, unknown>>): Promise<Result<unknown>> {
    const live = this.byId.get(spaceId);
    if (live) return this.ask(live, (reply) => ({ kind: 'act-requested', at: this.o.scheduler.now(), act: { kind: 'privacy-release', entry }, reply }));
    try {
      return ok(await this.o.governance.record({ type: 'privacy.release', space: spaceId, at: this.o.scheduler.now(), payload: entry }));
    } catch (e) {
      this.report('could not log privacy.release; nothing was released', e);
      return fail('UNAVAILABLE', 'the public log is unavailable, so nothing was released; try again');
    }
  }

  /** The stored pulse series (P7: only released, unsuppressed points are ever stored). */
  series(spaceId: string, from: number, to: number, limit: number): Promise<PulsePoint[]> {
    return this.o.storage.listPulsePoints(spaceId, from, to, limit);
  }

  // ——— stories (SPEC §ST; the HTTP edge, src/http/storyRoutes.ts) ———

  /** Steps a story event or act that answers through an `answer` effect, and waits for it. */
  private ask<T>(live: LiveSpace, make: (reply: ConnRef) => SpaceEvent): Promise<Result<T>> {
    const reply = this.nextRef++;
    const done = new Promise<Result<T>>((res) => this.answers.set(reply, res as (r: Result<unknown>) => void));
    this.stepIn(live, make(reply));
    return done;
  }

  /** The open space and the participant a resume token names, who must belong to it. */
  private async author(code: string, token: string | null | undefined): Promise<Result<{ live: LiveSpace; participantId: string }>> {
    const who = await this.authorOf(code, token);
    if (!who.ok) return who;
    return who.value.live ? ok({ live: who.value.live, participantId: who.value.participantId }) : fail('SPACE_CLOSED', 'this space has closed');
  }

  /** The participant a token names in a space, open (`live`) or closed (null: only storage knows it). */
  private async authorOf(code: string, token: string | null | undefined): Promise<Result<{ live: LiveSpace | null; spaceId: string; participantId: string }>> {
    const space = await this.spaceByCode(code);
    if (!space) return fail('NOT_FOUND', 'no such space');
    if (!token) return fail('UNAUTHORIZED', "send your participant token (the one this device got when it joined)");
    const p = await this.o.storage.getParticipantByTokenHash(participantTokenKey(token));
    if (!p || p.spaceId !== space.id) return fail('UNAUTHORIZED', 'that participant token does not belong to this space');
    return ok({ live: this.byId.get(space.id) ?? null, spaceId: space.id, participantId: p.id });
  }

  /** Stored stories of a closed space, as the machine would hold them (for reads and erasure after the close). */
  private async storedStories(spaceId: string) {
    return (await this.o.storage.listStories(spaceId)).map((st) => ({ id: st.id, author: st.participantId, text: st.text, name: st.name, affect: { valence: st.valence, arousal: st.arousal, confidence: st.confidence }, flags: st.flags, status: st.status, reason: st.reason as DeclineReason | null, at: st.createdAt }));
  }

  private async stewarded(code: string, stewardToken: string | null | undefined): Promise<Result<LiveSpace>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    return live ? ok(live) : fail('SPACE_CLOSED', 'this space has closed');
  }

  /**
   * A participant shares a story (ST2–ST5): consent first, then the text and pseudonym are
   * checked (coded refusals), analysed (its affect) and screened (flags), and the machine decides.
   */
  async submitStory(code: string, token: string | null | undefined, req: { readonly text: string; readonly name?: string | null | undefined; readonly consent: boolean }): Promise<Result<ReturnType<typeof authorView>>> {
    const who = await this.author(code, token);
    if (!who.ok) return who;
    if (req.consent !== true) return fail('CONSENT_REQUIRED', 'a story is shared only after its own consent step (consent: true)');
    const text = checkStoryText(req.text);
    if (!text.ok) return fail(text.code, text.message);
    const name = checkPseudonym(req.name);
    if (!name.ok) return fail(name.code, name.message);
    const a = this.o.analyseText ? this.o.analyseText(text.text) : { valence: 0, arousal: 0, confidence: 0 };
    const affect = { valence: a.valence, arousal: a.arousal, confidence: a.confidence };
    const flags = this.o.screenStory?.(text.text) ?? [];
    const { live, participantId } = who.value;
    // The story's own consent, recorded on the server (ST2, V1): to the current text, or asked again.
    // (While stories are off the machine refuses with STORIES_OFF, whatever was agreed.)
    if (live.state.stories.settings.enabled) {
      const consent = await this.storyConsentState(participantId);
      if (consent !== 'agreed')
        return fail(
          'CONSENT_REQUIRED',
          consent === 'never'
            ? 'agree to the story consent step first: POST /api/me/consent {"version": the stories version of GET /api/consent, "purpose": "stories"}'
            : 'the story consent text has changed since you agreed; read it again and agree to the new version (POST /api/me/consent with "purpose": "stories")',
        );
    }
    return this.ask(live, (reply) => ({ kind: 'story-submitted', at: this.o.scheduler.now(), reply, participantId, storyId: newId(), text: text.text, name: name.name, affect, flags }));
  }

  /** The author's own stories with their states (their own data, ST12). */
  async myStories(code: string, token: string | null | undefined): Promise<Result<{ enabled: boolean; moderation: StorySettings['moderation']; consent: StoryConsentStatus; stories: ReturnType<typeof authorView>[] }>> {
    const who = await this.authorOf(code, token);
    if (!who.ok) return who;
    const { live, participantId } = who.value;
    const state = await this.storyConsentState(participantId);
    const consent: StoryConsentStatus = { version: this.storyConsentVersion, agreed: state === 'agreed', changed: state === 'changed' };
    if (!live) {
      // A closed space takes no stories, but its authors still see (and can erase) theirs.
      return ok({ enabled: false, moderation: 'pre', consent, stories: (await this.storedStories(who.value.spaceId)).filter((s) => s.author === participantId).map(authorView) });
    }
    const st = live.state.stories;
    return ok({ enabled: st.settings.enabled, moderation: st.settings.moderation, consent, stories: [...st.byId.values()].filter((s) => s.author === participantId).map(authorView) });
  }

  /** The author withdraws a story: off every screen at once, erased from storage (ST11). */
  async withdrawStory(code: string, token: string | null | undefined, storyId: string): Promise<Result<{ id: string; withdrawn: true }>> {
    const who = await this.authorOf(code, token);
    if (!who.ok) return who;
    const { live, participantId } = who.value;
    if (!live) {
      // Withdrawal is never refused for a closed space: the machine is gone, storage erases (ST11).
      const mine = (await this.storedStories(who.value.spaceId)).find((s) => s.id === storyId && s.author === participantId);
      if (!mine) return fail('NOT_FOUND', 'you have no story with this id');
      await this.o.storage.eraseStory(storyId);
      return ok({ id: storyId, withdrawn: true });
    }
    return this.ask(live, (reply) => ({ kind: 'story-withdrawn', at: this.o.scheduler.now(), reply, participantId, storyId }));
  }

  /** The steward's moderation queue: every story of the space, oldest first, never its author (ST6). */
  async storyQueue(code: string, stewardToken: string | null | undefined): Promise<Result<{ settings: StorySettings; stories: QueueEntry[] }>> {
    const auth = await this.authorise(code, stewardToken);
    if (!auth.ok) return auth;
    const live = this.byId.get(auth.value.id);
    const st = live ? live.state.stories : { settings: { enabled: false, moderation: 'pre' as const }, byId: new Map((await this.storedStories(auth.value.id)).map((s) => [s.id, s])) };
    const stories = [...st.byId.values()].map((s) => releaseQueueEntry({ id: s.id, text: s.text, name: s.name, valence: s.affect.valence, arousal: s.affect.arousal, status: s.status, reason: s.reason, flags: s.flags, at: s.at }));
    return ok({ settings: st.settings, stories });
  }

  /** A moderation decision (ST6): an act — `story.moderated` on the public log — then applied. */
  async moderateStory(code: string, stewardToken: string | null | undefined, storyId: string, decision: Decision, reason: DeclineReason | null): Promise<Result<unknown>> {
    const r = await this.stewarded(code, stewardToken);
    if (!r.ok) return r;
    return this.storyRequest(r.value, { kind: 'act', act: { kind: 'story-decision', storyId, decision, reason: decision === 'decline' ? (reason ?? 'other') : null } });
  }

  /** Turns stories on or off, or switches pre/post-moderation (ST1): an act, logged first. */
  async setStorySettings(code: string, stewardToken: string | null | undefined, settings: StorySettings): Promise<Result<unknown>> {
    const r = await this.stewarded(code, stewardToken);
    if (!r.ok) return r;
    return this.storyRequest(r.value, { kind: 'act', act: { kind: 'story-settings', settings } });
  }

  /** Pin, unpin, skip, pause or resume the gathering display (ST8). */
  async controlStories(code: string, stewardToken: string | null | undefined, control: StoryControl, storyId: string | null): Promise<Result<unknown>> {
    const r = await this.stewarded(code, stewardToken);
    if (!r.ok) return r;
    return this.storyRequest(r.value, { kind: 'control', control, storyId });
  }

  /** The gathering display's last released stories view (ST10); a read never steps the machine. */
  storiesView(spaceId: string): StoriesView | null {
    const live = this.byId.get(spaceId);
    if (!live) return null;
    const st = live.state.stories;
    return st.lastView ?? releaseStories({ current: null, themes: [], present: live.state.pulse.count, pinned: st.pinned, paused: st.paused }, this.options.release);
  }

  /** The session export of stories (ST2): the shown ones, as the author consented, never the author. */
  async storyExport(code: string, stewardToken: string | null | undefined): Promise<Result<QueueEntry[]>> {
    const q = await this.storyQueue(code, stewardToken);
    if (!q.ok) return q;
    return ok(q.value.stories.filter((s) => s.status === 'shown'));
  }

  /** Writes what waits and resolves once every write asked for so far has settled. */
  async drain(): Promise<void> {
    this.flushLazy();
    await this.lastWrite.catch(() => {});
  }

  /** Stops ticking every space and waits for pending writes. */
  async stop(): Promise<void> {
    for (const live of this.byId.values()) {
      live.beat?.cancel();
      live.beat = null;
    }
    await this.drain();
    this.stopped = true;
  }
}
