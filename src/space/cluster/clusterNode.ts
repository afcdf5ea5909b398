/**
 * One node of a cluster space (SPEC §K): several `attune serve --cluster` processes serve the same
 * spaces over one NATS (bus and KV) and one shared database.
 *
 *   participants/displays ─▶ any node ─▶ its SpaceHost machine (its own participants only:
 *        seq checks, acks after the durable write, capacity with the others' counts)
 *                                 │ partial aggregate, ≤ every 50 ms when it changed, ≥ every 250 ms
 *                                 ▼
 *     NATS space.<id>.cluster.partial ─▶ every node keeps the fresh partials of every node
 *                                 │
 *   tick owner (KV lease, K2) ─ merges the fresh partials, steps its owner machine's tick
 *        (release stage, collective tracker, groups) ─▶ NATS space.<id>.pulse.* once
 *                                 ▼
 *     every node's WebSocket edge fans the same bytes out to its own sockets
 *
 * A participant who resumes on another node is claimed there (`space.<id>.cluster.claim`): the
 * node that held them drops their point and seq state (machine event `moved`), so they count
 * once. A node that stops publishing partials for `partialTtlMs` is taken for dead: its points
 * leave the merge until its participants resume elsewhere (their stored point comes with them).
 * When the owner dies its lease stops moving; after `leaseMs` (by the watcher's own clock) the
 * first node to compare-and-set the lease owns the tick and continues the pulse `seq` and
 * smoothing from the last pulse it saw (or the lease's copy of it).
 *
 * Governance (K12): the owner's machine decides over the governance state of the owner node's
 * own machine of the space. A council act asked for on another node is sent to the owner
 * (`space.<id>.cluster.act`, answered on `cluster.reply.<node>`), which takes it — checked,
 * logged, applied and stored (S12), one at a time — and the node that applied an act tells the
 * others (`space.<id>.cluster.governance`), which read the stored state back. A taker starts
 * from the stored state (Q12): policies, their cooldowns and the feedback in force go on.
 */
import type { Bus, Disposable, KvStore } from '../../bus/port.ts';
import { decideLease, decodeLease, encodeLease, type LeaseSighting, type LeaseValue, sight } from '../../core/cluster/lease.ts';
import { type CouncilFigures, decodePartial, encodePartial, mergePartials, type PartialAggregate } from '../../core/cluster/partial.ts';
import type { HeartWindow } from '../../core/collective/heartSynchrony.ts';
import { beatPeriodMs, isParticipantBeat } from '../../core/space/beats.ts';
import { type ErrorCode, fail, ok, type Result } from '../../core/errors.ts';
import type { SpaceAct, SpaceEvent } from '../../core/space/events.ts';
import { createOwnerState, isCouncilAct, type SpaceState, step } from '../../core/space/machine.ts';
import { encodeView } from '../../core/space/record.ts';
import { isStoryAct } from '../../core/space/storySteps.ts';
import type { StoriesView } from '../../core/release/stories.ts';
import type { Cancel, Scheduler } from '../scheduler.ts';
import { type ClusterHooks, type SpaceHost, type StoryRequest, subjects } from '../spaceHost.ts';
import type { Storage } from '../../storage/port.ts';

/** Timings of a cluster (defaults fit loopback and a LAN; SPEC K2). */
export interface ClusterTimings {
  /** A lease whose revision has not moved for this long (own clock) may be taken over, ms. */
  readonly leaseMs: number;
  /** How often the owner renews and the others look, ms. */
  readonly renewMs: number;
  /** How often a node checks whether its partial changed, ms. */
  readonly partialMs: number;
  /**
   * After a change (an input, a join, a leave…) a node publishes its partial this soon — at most
   * once per this many ms — instead of waiting for the `partialMs` grid, so that the owner's next
   * beat already counts it (tap → display across nodes, K3), ms.
   */
  readonly promptMs: number;
  /** A node republishes an unchanged partial this often (its heartbeat), ms. */
  readonly heartbeatMs: number;
  /** A partial not refreshed for this long is dropped (its node is taken for dead), ms. */
  readonly partialTtlMs: number;
  /** How long a node waits for the tick owner to answer a council act it sent (K12), ms. */
  readonly actTimeoutMs: number;
}

/** Defaults: takeover ≈ 1.5–1.8 s after the owner's last renewal; a dead node's partial drops after 1 s. */
export const DEFAULT_CLUSTER_TIMINGS: ClusterTimings = { leaseMs: 1500, renewMs: 300, partialMs: 50, promptMs: 10, heartbeatMs: 250, partialTtlMs: 1000, actTimeoutMs: 5000 };

/** Settings of a cluster node. */
export interface ClusterNodeOptions {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly kv: KvStore;
  readonly scheduler: Scheduler;
  /** Where the owner stores the series (P7) of the spaces it ticks. */
  readonly storage: Storage;
  readonly timings?: Partial<ClusterTimings>;
  readonly report?: (what: string, e: unknown) => void;
}

/** Bus subjects of the cluster (below the bus's own prefix). */
export const clusterSubjects = {
  partial: (spaceId: string) => `space.${spaceId}.cluster.partial`,
  claim: (spaceId: string) => `space.${spaceId}.cluster.claim`,
  /** A council act for the tick owner to take (K12). */
  act: (spaceId: string) => `space.${spaceId}.cluster.act`,
  /** A node applied a council act and stored the space's governance (K12). */
  governance: (spaceId: string) => `space.${spaceId}.cluster.governance`,
  /** A node stored a change of the space's stories or their settings (ST15). */
  stories: (spaceId: string) => `space.${spaceId}.cluster.stories`,
  /** A participant opted out of adaptive feedback, or back in, through a node (K12). */
  opted: (spaceId: string) => `space.${spaceId}.cluster.opted`,
  /** The owner's answers to the acts a node sent it. */
  reply: (nodeId: string) => `cluster.reply.${nodeId}`,
  spaces: 'cluster.spaces',
} as const;

/** How many times a node sends an act again when the node it sent it to no longer owns the tick. */
const ACT_ATTEMPTS = 3;

/** An act sent to the tick owner, awaiting its answer. */
interface SentAct {
  readonly resolve: (r: Result<unknown> | 'moved') => void;
}

/** What a node sends the tick owner to take: a council act (K12), or a story act or control (ST15). */
type Forwarded = { readonly act: SpaceAct } | { readonly story: StoryRequest };

/** A story act or control off the wire (ST15), or null when it is not one. */
function storyRequestOf(x: unknown): StoryRequest | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as { kind?: unknown; act?: unknown; control?: unknown; storyId?: unknown };
  if (o.kind === 'act') {
    const a = o.act as SpaceAct | null;
    return typeof a === 'object' && a !== null && typeof a.kind === 'string' && isStoryAct(a) ? { kind: 'act', act: a } : null;
  }
  const controls = ['pin', 'unpin', 'skip', 'pause', 'resume'];
  if (o.kind === 'control' && typeof o.control === 'string' && controls.includes(o.control) && (o.storyId === null || typeof o.storyId === 'string')) return { kind: 'control', control: o.control as Extract<StoryRequest, { kind: 'control' }>['control'], storyId: o.storyId };
  return null;
}

/** The KV key of a space's tick lease. */
export const leaseKey = (spaceId: string) => `lease.${spaceId}`;

interface Held {
  readonly partial: PartialAggregate;
  readonly receivedAt: number;
}

interface ClusterSpace {
  readonly id: string;
  readonly partials: Map<string, Held>;
  readonly subs: Disposable[];
  seen: LeaseSighting | null;
  /** The lease revision this node holds, when it owns the tick. */
  ownedRevision: number | null;
  /** When the last renewal that succeeded began (own clock). */
  renewedAt: number;
  owner: string | null;
  /** The lease round in flight (one at a time per space), or null. */
  round: Promise<void> | null;
  /** The owner machine and its beats, while this node owns the tick. */
  machine: SpaceState | null;
  beat: Cancel | null;
  lastPulse: { seq: number; smoothed: { valence: number; arousal: number } | null; at: number } | null;
  lastKey: string;
  lastSentAt: number;
  /** The seqs of the last pulses this node published (the push feeds' one sender, F8). */
  readonly published: number[];
  /** Each node's last heart window (K10), kept while its partials stay fresh. */
  readonly hearts: Map<string, HeartWindow>;
  /** What this node last sent of its own heart window: `end:tracked:sharing:rows`. */
  heartKey: string;
  /** The council figures on the latest partial of a tick owner (K12), and whose they were. */
  ownerFigures: (CouncilFigures & { readonly node: string }) | null;
  /** The failed evaluations the lease said when this node last read it (K12). */
  leaseEvalErrors: number;
  /** Settles once this node, as the new owner, read the council back and applied the log's tail (K12). */
  ready: Promise<void> | null;
}

/** Published seqs remembered per space: far more than NATS can have in flight to this node's own subscriptions. */
const PUBLISHED_KEPT = 64;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A bus message's JSON object, or null when it is not one (bad JSON, `null`, a number…): dropped. */
function messageOf<T extends object>(bytes: Uint8Array): T | null {
  try {
    const v: unknown = JSON.parse(dec.decode(bytes));
    return typeof v === 'object' && v !== null ? (v as T) : null;
  } catch {
    return null;
  }
}

/** Who hears about this node's tick leases (the Prometheus gauges, src/server/metrics.ts). */
export interface LeaseObserver {
  setLeaseOwned(spaceId: string, owned: boolean): void;
  leaseAcquired(spaceId: string): void;
  forgetLease(spaceId: string): void;
}

/** What a node reports about one space (tests, metrics, `attune load`). */
export interface ClusterSpaceStatus {
  readonly owner: string | null;
  readonly owned: boolean;
  readonly nodes: readonly string[];
  readonly lastSeq: number;
}

/** A node of a cluster: give {@link hooks} to the SpaceHost, then {@link start}. */
export class ClusterNode {
  readonly nodeId: string;
  private readonly o: ClusterNodeOptions;
  private readonly t: ClusterTimings;
  private host: SpaceHost | null = null;
  private readonly spaces = new Map<string, ClusterSpace>();
  private timers: Cancel[] = [];
  /** The prompt partial after a change, when one is due (see ClusterTimings.promptMs). */
  private prompt: Cancel | null = null;
  /** When the partials were last looked at (published or found unchanged). */
  private partialsAt = -Infinity;
  private announce: Disposable | null = null;
  private stopped = false;
  private replies: Disposable | null = null;
  private readonly sent = new Map<string, SentAct>();
  private nextAct = 1;
  /** Told when this node gains or loses a tick lease (metrics). */
  leaseObserver: LeaseObserver | null = null;
  /** Council acts this node applied from the log on taking a space over (K12): logged by an owner that died before applying them. */
  readonly replayed: { readonly spaceId: string; readonly acts: number }[] = [];
  /** Takeovers by this node: when, and how long since the last pulse it saw (failover figures). */
  readonly takeovers: { readonly spaceId: string; readonly at: number; readonly sincePulseMs: number | null }[] = [];

  constructor(o: ClusterNodeOptions) {
    this.o = o;
    this.nodeId = o.nodeId;
    this.t = { ...DEFAULT_CLUSTER_TIMINGS, ...o.timings };
    if (!(this.t.renewMs < this.t.leaseMs)) throw new RangeError('renewMs must be below leaseMs');
  }

  /** The hooks the SpaceHost calls (SpaceHostOptions.cluster). */
  readonly hooks: ClusterHooks = {
    elsewhere: (spaceId) => {
      const cs = this.spaces.get(spaceId);
      if (!cs) return 0;
      const now = this.o.scheduler.now();
      // Only partials no older than two heartbeats: a node that died stops counting against
      // capacity within 0.5 s, before most of its participants are back on other nodes.
      const fresh = Math.min(this.t.partialTtlMs, 2 * this.t.heartbeatMs);
      let n = 0;
      for (const [node, h] of cs.partials) if (node !== this.nodeId && now - h.receivedAt <= fresh) n += h.partial.connected;
      return n;
    },
    stepped: (spaceId, e) => this.stepped(spaceId, e),
    presence: (spaceId) => {
      const cs = this.spaces.get(spaceId);
      if (!cs || cs.partials.size === 0) return null;
      const now = this.o.scheduler.now();
      const p = { present: 0, connected: 0, displays: 0, feeds: 0 };
      for (const h of cs.partials.values()) {
        if (now - h.receivedAt > this.t.partialTtlMs) continue;
        p.present += h.partial.grid.n;
        p.connected += h.partial.connected;
        p.displays += h.partial.displays;
        p.feeds += h.partial.feeds;
      }
      return p;
    },
    opened: (spaceId) => this.spaces.get(spaceId)?.round ?? Promise.resolve(),
    optedOut: (spaceId, participantId, optOut) => {
      if (this.stopped || !this.spaces.has(spaceId)) return;
      this.o.bus.publish(clusterSubjects.opted(spaceId), enc.encode(JSON.stringify({ node: this.nodeId, participant: participantId, optOut })));
    },
    figures: (spaceId) => {
      const cs = this.spaces.get(spaceId);
      if (!cs || cs.ownedRevision !== null) return null;
      const f = cs.ownerFigures;
      // The current owner's figures; between owners, the last owner's (a taker goes on from them).
      return f ? { optedOut: f.optedOut, evalErrors: Math.max(f.evalErrors, cs.leaseEvalErrors) } : null;
    },
    forward: (spaceId, act) => {
      const cs = this.spaces.get(spaceId);
      if (!cs || this.stopped || cs.ownedRevision !== null || cs.owner === null || cs.owner === this.nodeId) return null;
      return this.sendAct(cs, { act }, 1).then((r) => (r.ok ? ok(true as const) : r));
    },
    forwardStory: (spaceId, req) => {
      const cs = this.spaces.get(spaceId);
      if (!cs || this.stopped || cs.ownedRevision !== null || cs.owner === null || cs.owner === this.nodeId) return null;
      return this.sendAct(cs, { story: req }, 1);
    },
  };

  /**
   * Sends a council act to the space's tick owner and resolves its answer (K12). If that node no
   * longer owns the tick, sends it again to whoever does — or takes it here when that is this
   * node, or nobody.
   */
  private async sendAct(cs: ClusterSpace, body: Forwarded, attempt: number): Promise<Result<unknown>> {
    const host = this.host;
    if (!host) return fail('UNAVAILABLE', 'this node is not serving spaces');
    const to = cs.owner;
    if (to === null || to === this.nodeId || cs.ownedRevision !== null) return 'act' in body ? host.takeAct(cs.id, body.act) : host.takeStory(cs.id, body.story);
    const id = `${this.nodeId}-${this.nextAct++}`;
    const sch = this.o.scheduler;
    const answer = await new Promise<Result<unknown> | 'moved'>((resolve) => {
      const timer = sch.at(sch.now() + this.t.actTimeoutMs, () => {
        this.sent.delete(id);
        resolve(fail('UNAVAILABLE', 'the node that runs this space did not answer; the act may not have been taken — check the council page, then try again'));
      });
      this.sent.set(id, {
        resolve: (r) => {
          timer.cancel();
          this.sent.delete(id);
          resolve(r);
        },
      });
      this.o.bus.publish(clusterSubjects.act(cs.id), enc.encode(JSON.stringify({ id, from: this.nodeId, to, ...body })));
    });
    if (answer !== 'moved') return answer;
    if (attempt >= ACT_ATTEMPTS || this.stopped) return fail('UNAVAILABLE', 'the space is changing nodes; try again');
    // The owner changed: wait for a lease round to learn who owns it now.
    await new Promise<void>((r) => sch.at(sch.now() + this.t.renewMs, r));
    return this.sendAct(cs, body, attempt + 1);
  }

  /** An act sent to this node as the tick owner (K12): take it, and answer. */
  private onAct(cs: ClusterSpace, bytes: Uint8Array): void {
    const m = messageOf<{ id?: unknown; from?: unknown; to?: unknown; act?: unknown; story?: unknown }>(bytes);
    if (!m) return;
    if (m.to !== this.nodeId || typeof m.id !== 'string' || typeof m.from !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(m.from)) return;
    const answer = (r: Result<unknown> | 'moved') => this.o.bus.publish(clusterSubjects.reply(m.from as string), enc.encode(JSON.stringify({ id: m.id, ...(r === 'moved' ? { moved: true } : { result: r }) })));
    const act = m.act as SpaceAct | null | undefined;
    const story = storyRequestOf(m.story);
    const isAct = typeof act === 'object' && act !== null && typeof act.kind === 'string' && isCouncilAct(act);
    if (!isAct && !story) {
      answer(fail('BAD_REQUEST', 'not a council act, story act or stories control'));
      return;
    }
    const host = this.host;
    if (cs.ownedRevision === null || !host) {
      answer('moved');
      return;
    }
    // A new owner takes acts once it applied what the log holds beyond the stored council (K12).
    const take = () => (story ? host.takeStory(cs.id, story) : host.takeAct(cs.id, act as SpaceAct));
    (cs.ready ?? Promise.resolve()).then(take).then(answer, (e: unknown) => {
      this.report(`could not take a council act of space ${cs.id}`, e);
      answer(fail('INTERNAL', 'the act failed on the node that runs this space'));
    });
  }

  private onReply(bytes: Uint8Array): void {
    const m = messageOf<{ id?: unknown; moved?: unknown; result?: unknown }>(bytes);
    if (!m) return;
    if (typeof m.id !== 'string') return;
    const waiting = this.sent.get(m.id);
    if (!waiting) return;
    const r = m.result as { ok?: unknown; value?: unknown; code?: unknown; message?: unknown } | undefined;
    if (m.moved === true) waiting.resolve('moved');
    else if (r?.ok === true) waiting.resolve({ ok: true, value: r.value === undefined ? true : r.value });
    else if (r && typeof r.code === 'string') waiting.resolve(fail(r.code as ErrorCode, typeof r.message === 'string' ? r.message : r.code));
  }

  private report(what: string, e: unknown): void {
    if (this.stopped) return;
    (this.o.report ?? ((w, err) => console.error(`attune cluster: ${w}`, err)))(what, e);
  }

  /** Joins the cluster: every space open on the host, and those announced later. */
  start(host: SpaceHost): void {
    this.host = host;
    const sch = this.o.scheduler;
    this.replies = this.o.bus.subscribe(clusterSubjects.reply(this.nodeId), (bytes) => this.onReply(bytes));
    this.announce = this.o.bus.subscribe(clusterSubjects.spaces, (bytes) => {
      const id = dec.decode(bytes);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return;
      host.openStored(id).then(
        (open) => open && this.track(id),
        (e) => this.report(`could not open space ${id}`, e),
      );
    });
    for (const id of host.liveSpaceIds()) this.track(id);
    this.timers.push(
      sch.every(this.t.partialMs, () => this.publishPartials(), sch.now() + this.t.partialMs),
      sch.every(this.t.renewMs, () => this.leases(), sch.now()),
    );
  }

  /** What this node knows of a space. */
  status(spaceId: string): ClusterSpaceStatus | null {
    const cs = this.spaces.get(spaceId);
    if (!cs) return null;
    const now = this.o.scheduler.now();
    return { owner: cs.owner, owned: cs.ownedRevision !== null, nodes: [...cs.partials].filter(([, h]) => now - h.receivedAt <= this.t.partialTtlMs).map(([n]) => n).sort(), lastSeq: cs.lastPulse?.seq ?? 0 };
  }

  /**
   * Whether this node published the pulse `seq` of the space, whatever the lease did since (a
   * pulse published just before a takeover is still this node's; the taker's seqs follow it). So
   * each pulse reaches the push feeds from exactly the node that published it (F8).
   */
  published(spaceId: string, seq: number): boolean {
    return this.spaces.get(spaceId)?.published.includes(seq) ?? false;
  }

  private stepped(spaceId: string, e: SpaceEvent): void {
    if (this.stopped) return;
    if (e.kind !== 'tick') this.promptPartials();
    if (e.kind === 'started') {
      this.track(spaceId);
      // Announced once this node's first lease round for it ended (K2): the creator owns the new
      // space's tick before any other node opens it and looks at the lease.
      const announce = () => {
        if (!this.stopped) this.o.bus.publish(clusterSubjects.spaces, enc.encode(spaceId));
      };
      const first = this.spaces.get(spaceId)?.round;
      if (first) first.then(announce);
      else announce();
    } else if (e.kind === 'resumed') {
      // This node holds them now; whichever node held them before lets go (machine `moved`).
      this.o.bus.publish(clusterSubjects.claim(spaceId), enc.encode(JSON.stringify({ node: this.nodeId, participant: e.participantId })));
    } else if (e.kind === 'story-submitted' || e.kind === 'story-withdrawn' || (e.kind === 'act-logged' && isStoryAct(e.act))) {
      // Once the story (or its state, or the settings) is stored, the others read the stories back (ST15).
      this.host?.drain().then(() => {
        if (!this.stopped) this.o.bus.publish(clusterSubjects.stories(spaceId), enc.encode(JSON.stringify({ node: this.nodeId })));
      });
    } else if (e.kind === 'act-logged' && (isCouncilAct(e.act) || e.act.kind === 'steward-changed')) {
      // Once the governance (or the new steward token's hash) it stored is durable, the others read it back (K12, K6).
      const what = e.act.kind === 'steward-changed' ? 'steward' : 'council';
      this.host?.drain().then(() => {
        if (!this.stopped) this.o.bus.publish(clusterSubjects.governance(spaceId), enc.encode(JSON.stringify({ node: this.nodeId, what })));
      });
    }
  }

  private track(spaceId: string): void {
    if (this.spaces.has(spaceId) || this.stopped) return;
    const cs: ClusterSpace = { id: spaceId, partials: new Map(), subs: [], seen: null, ownedRevision: null, renewedAt: -Infinity, owner: null, round: null, machine: null, beat: null, lastPulse: null, lastKey: '', lastSentAt: -Infinity, published: [], hearts: new Map(), heartKey: '', ownerFigures: null, leaseEvalErrors: 0, ready: null };
    this.spaces.set(spaceId, cs);
    this.leaseObserver?.setLeaseOwned(spaceId, false);
    const bus = this.o.bus;
    const onPulse = (bytes: Uint8Array) => this.onPulse(cs, bytes);
    cs.subs.push(
      bus.subscribe(clusterSubjects.partial(spaceId), (bytes) => this.onPartial(cs, bytes)),
      bus.subscribe(clusterSubjects.claim(spaceId), (bytes) => this.onClaim(cs, bytes)),
      bus.subscribe(clusterSubjects.act(spaceId), (bytes) => this.onAct(cs, bytes)),
      bus.subscribe(clusterSubjects.governance(spaceId), (bytes) => this.onGovernance(cs, bytes)),
      bus.subscribe(clusterSubjects.opted(spaceId), (bytes) => this.onOpted(cs, bytes)),
      bus.subscribe(clusterSubjects.stories(spaceId), (bytes) => this.onStories(cs, bytes)),
      bus.subscribe(subjects.stories(spaceId), (bytes) => this.onStoriesView(cs, bytes)),
      bus.subscribe(subjects.participantPulse(spaceId), onPulse),
      bus.subscribe(subjects.displayPulse(spaceId), onPulse),
      bus.subscribe(subjects.control(spaceId), () => this.untrack(cs, true)),
    );
    // A space this node just created or opened gets its lease round now, not on the next timer
    // round (K2): the first node to compare-and-set `create` ticks from its first beat, so no
    // pulse of a new space waits up to renewMs for an owner. (Before start, the timer's first
    // round comes at once anyway.)
    if (this.host) void this.round(cs);
  }

  private untrack(cs: ClusterSpace, closed: boolean): void {
    this.stopTicking(cs);
    for (const d of cs.subs) d.dispose();
    this.spaces.delete(cs.id);
    this.leaseObserver?.forgetLease(cs.id);
    if (closed) this.host?.retire(cs.id);
  }

  private onPartial(cs: ClusterSpace, bytes: Uint8Array): void {
    const st = this.host?.stateOf(cs.id);
    if (!st) return;
    const p = decodePartial(dec.decode(bytes), st.pulse.grid.bins, st.pulse.groupGrids.length, st.heart?.windowSlots);
    if (!p) return;
    cs.partials.set(p.node, { partial: p, receivedAt: this.o.scheduler.now() });
    if (p.heart) cs.hearts.set(p.node, p.heart);
    if (p.gov && p.node !== this.nodeId) cs.ownerFigures = { node: p.node, ...p.gov };
  }

  private onClaim(cs: ClusterSpace, bytes: Uint8Array): void {
    const m = messageOf<{ node?: unknown; participant?: unknown }>(bytes);
    if (!m) return;
    if (m.node === this.nodeId || typeof m.participant !== 'string') return;
    const st = this.host?.stateOf(cs.id);
    if (st?.participants.has(m.participant) || st?.pulse.has(m.participant)) this.host?.forget(cs.id, m.participant);
  }

  /** Another node stored a change of the stories: read them back (ST15). */
  private onStories(cs: ClusterSpace, bytes: Uint8Array): void {
    const m = messageOf<{ node?: unknown }>(bytes);
    if (!m) return;
    if (m.node === this.nodeId) return;
    this.host?.syncStories(cs.id).catch((e) => this.report(`could not read the stories of space ${cs.id}`, e));
  }

  /** The gathering view the owner published (ST15): kept for this node's displays' welcomes and reads. */
  private onStoriesView(cs: ClusterSpace, bytes: Uint8Array): void {
    if (cs.ownedRevision !== null) return;
    const v = messageOf<StoriesView>(bytes);
    if (!v) return;
    if (v.t === 'stories') this.host?.storiesViewed(cs.id, v);
  }

  /** A participant opted out (or back in) through another node: every node keeps the same set, so a taker counts them all (K12). */
  private onOpted(cs: ClusterSpace, bytes: Uint8Array): void {
    const m = messageOf<{ node?: unknown; participant?: unknown; optOut?: unknown }>(bytes);
    if (!m) return;
    if (m.node === this.nodeId || typeof m.participant !== 'string' || typeof m.optOut !== 'boolean') return;
    this.host?.relayOptOut(cs.id, m.participant, m.optOut);
  }

  /** Another node applied a council act (or rotated the steward token): read it back from storage (K12, K6). */
  private onGovernance(cs: ClusterSpace, bytes: Uint8Array): void {
    const m = messageOf<{ node?: unknown; what?: unknown }>(bytes);
    if (!m) return;
    if (m.node === this.nodeId) return;
    if (m.what === 'steward') this.host?.syncSteward(cs.id).catch((e) => this.report(`could not read the steward token of space ${cs.id}`, e));
    else this.host?.syncGovernance(cs.id).catch((e) => this.report(`could not read the council of space ${cs.id}`, e));
  }

  private onPulse(cs: ClusterSpace, bytes: Uint8Array): void {
    const p = messageOf<{ seq?: unknown; at?: unknown; smoothed?: unknown }>(bytes);
    if (!p) return;
    if (typeof p.seq !== 'number' || (cs.lastPulse && p.seq <= cs.lastPulse.seq)) return;
    const sm = p.smoothed as { valence?: unknown; arousal?: unknown } | null | undefined;
    cs.lastPulse = { seq: p.seq, at: typeof p.at === 'number' ? p.at : this.o.scheduler.now(), smoothed: sm && typeof sm.valence === 'number' && typeof sm.arousal === 'number' ? { valence: sm.valence, arousal: sm.arousal } : null };
    this.host?.setClusterPulse(cs.id, bytes);
  }

  /** Publishes the partials `promptMs` after the last look at them (or now), once, after a change. */
  private promptPartials(): void {
    if (this.prompt || this.stopped) return;
    const sch = this.o.scheduler;
    this.prompt = sch.at(Math.max(sch.now(), this.partialsAt + this.t.promptMs), () => {
      this.prompt = null;
      this.publishPartials();
    });
  }

  /** Publishes this node's partial of each space when it changed, and as a heartbeat. */
  private publishPartials(): void {
    const host = this.host;
    if (!host || this.stopped) return;
    const now = this.o.scheduler.now();
    this.partialsAt = now;
    for (const cs of this.spaces.values()) {
      const st = host.stateOf(cs.id);
      if (!st) continue;
      const feeds = host.feedWatches(cs.id);
      // The heart window (K10) travels only when it changed: a new slot, someone starting or
      // stopping sharing (≤ 500 rows of 30 numbers, so not with every heartbeat).
      const heart = st.heart && (st.heart.tracked > 0 || cs.heartKey !== '') ? st.heart.window(now) : null;
      const heartKey = heart ? `${heart.end}:${heart.tracked}:${heart.sharing}:${heart.rows.length}` : '';
      const heartChanged = heart !== null && heartKey !== cs.heartKey;
      // The owner's partial carries the council figures it counts for the whole space (K12).
      const gov: CouncilFigures | null = cs.ownedRevision !== null && cs.machine ? { optedOut: st.gov.optedOut.size, evalErrors: st.gov.evalErrors } : null;
      const key = `${st.pulse.grid.version}:${st.pulse.groupGrids.map((g) => g.version).join(',')}:${st.connected}:${st.displays}:${feeds}:${gov ? `${gov.optedOut}:${gov.evalErrors}` : ''}`;
      if (key === cs.lastKey && !heartChanged && now - cs.lastSentAt < this.t.heartbeatMs) continue;
      cs.lastKey = key;
      cs.lastSentAt = now;
      if (heart) cs.heartKey = heart.tracked > 0 ? heartKey : '';
      const p: PartialAggregate = { node: this.nodeId, at: now, connected: st.connected, displays: st.displays, feeds, grid: st.pulse.grid, groups: st.pulse.groupGrids, ...(heartChanged ? { heart } : {}), ...(gov ? { gov } : {}) };
      this.o.bus.publish(clusterSubjects.partial(cs.id), enc.encode(encodePartial(p)));
    }
  }

  /** One round of the lease protocol for every space (K2). */
  private leases(): void {
    if (this.stopped) return;
    for (const cs of this.spaces.values()) this.round(cs);
  }

  /** Starts a lease round for one space unless one is in flight; resolves when it ends (never rejects). */
  private round(cs: ClusterSpace): Promise<void> {
    if (cs.round) return cs.round;
    const r = this.leaseRound(cs)
      .catch((e) => this.report(`lease of space ${cs.id}`, e))
      .finally(() => {
        cs.round = null;
      });
    cs.round = r;
    return r;
  }

  private leaseValue(cs: ClusterSpace, node: string | null): Uint8Array {
    const last = cs.lastPulse;
    const v: LeaseValue = { node, seq: Math.max(last?.seq ?? 0, cs.machine?.pulse.lastSeq ?? 0), smoothed: last?.smoothed ?? null, at: last?.at ?? 0, evalErrors: this.evalErrorsOf(cs) };
    return encodeLease(v);
  }

  /** The space's failed evaluations as far as this node knows (K12): its own count as owner, the last owner's, the lease's. */
  private evalErrorsOf(cs: ClusterSpace): number {
    return Math.max(this.host?.stateOf(cs.id)?.gov.evalErrors ?? 0, cs.ownerFigures?.evalErrors ?? 0, cs.leaseEvalErrors);
  }

  private async leaseRound(cs: ClusterSpace): Promise<void> {
    const sch = this.o.scheduler;
    const kv = this.o.kv;
    const key = leaseKey(cs.id);
    const began = sch.now();
    // An owner that could not renew in time pauses before anyone may take over.
    if (cs.ownedRevision !== null && began - cs.renewedAt > this.t.leaseMs - this.t.renewMs) this.pause(cs);
    // The owner renews in one round trip: compare-and-set on the revision it wrote last.
    if (cs.ownedRevision !== null) {
      const held = cs.ownedRevision;
      const r = await kv.update(key, this.leaseValue(cs, this.nodeId), held).catch((e: unknown) => {
        this.lostContact(cs);
        throw e;
      });
      if (this.stopped || !this.spaces.has(cs.id)) return;
      if (r !== null) {
        await this.own(cs, r, began, null, cs.ownedRevision === held);
        return;
      }
      // Someone else wrote it since: read it below and act on what it says.
      this.stopTicking(cs);
    }
    // A space this node has never seen a lease of (just created or opened here): compare-and-set
    // `create` first, in one round trip — it fails, changing nothing, if the lease exists (K2).
    if (cs.seen === null && cs.ownedRevision === null && cs.owner === null) {
      const r = await kv.create(key, this.leaseValue(cs, this.nodeId)).catch((e: unknown) => {
        this.lostContact(cs);
        throw e;
      });
      if (this.stopped || !this.spaces.has(cs.id)) return;
      if (r !== null) {
        await this.own(cs, r, began, null);
        return;
      }
    }
    let entry: { revision: number; value: LeaseValue } | null;
    try {
      const raw = await kv.get(key);
      entry = raw ? { revision: raw.revision, value: decodeLease(raw.value) } : null;
    } catch (e) {
      this.lostContact(cs);
      throw e;
    }
    if (this.stopped || !this.spaces.has(cs.id)) return;
    const now = sch.now();
    if (entry) {
      cs.seen = sight(cs.seen, entry.revision, now);
      cs.leaseEvalErrors = Math.max(cs.leaseEvalErrors, entry.value.evalErrors);
    }
    const action = decideLease(this.nodeId, entry, cs.seen, now, this.t.leaseMs);
    switch (action.kind) {
      case 'wait':
        cs.owner = action.owner;
        if (cs.machine) this.stopTicking(cs);
        return;
      case 'create': {
        const r = await kv.create(key, this.leaseValue(cs, this.nodeId));
        if (r !== null) await this.own(cs, r, began, entry);
        return;
      }
      case 'renew':
      case 'take': {
        const r = await kv.update(key, this.leaseValue(cs, this.nodeId), action.revision);
        if (r === null) {
          // Someone else wrote first: not ours (any more).
          this.stopTicking(cs);
          cs.seen = null;
          return;
        }
        // Our own renewal of the revision we wrote last: nobody ticked meanwhile, so a pause
        // (late renewals on a busy machine) resumes with the same machine, tracker and all.
        await this.own(cs, r, began, entry, action.kind === 'renew' && entry?.revision === cs.ownedRevision);
        return;
      }
    }
  }

  private lostContact(cs: ClusterSpace): void {
    if (cs.ownedRevision !== null && this.o.scheduler.now() - cs.renewedAt > this.t.leaseMs - this.t.renewMs) this.pause(cs);
  }

  private async own(cs: ClusterSpace, revision: number, began: number, entry: { revision: number; value: LeaseValue } | null, continued = false): Promise<void> {
    if (this.stopped) return;
    cs.ownedRevision = revision;
    cs.renewedAt = began;
    cs.owner = this.nodeId;
    cs.seen = { revision, since: this.o.scheduler.now() };
    if (cs.machine && cs.beat) return;
    if (cs.machine && continued) {
      this.startBeats(cs);
      this.leaseObserver?.setLeaseOwned(cs.id, true);
      return;
    }
    this.leaseObserver?.leaseAcquired(cs.id);
    this.leaseObserver?.setLeaseOwned(cs.id, true);
    await this.startTicking(cs, entry?.value ?? null);
  }

  /**
   * Becomes the space's tick owner: reads the council back from storage and applies the acts the
   * log holds beyond it (K12: a decision a dead owner logged but never applied takes effect now,
   * before this machine decides anything), then a machine with no participants of its own,
   * continuing the pulse.
   */
  private async startTicking(cs: ClusterSpace, lease: LeaseValue | null): Promise<void> {
    const host = this.host;
    if (!host?.stateOf(cs.id)) return;
    const ready = (async () => {
      await host.syncGovernance(cs.id);
      const applied = await host.applyLoggedGovernance(cs.id);
      if (applied > 0) this.replayed.push({ spaceId: cs.id, acts: applied });
    })().catch((e: unknown) => this.report(`could not read the council of space ${cs.id} back`, e));
    cs.ready = ready;
    await ready;
    const st = host.stateOf(cs.id);
    if (!st || this.stopped || cs.ownedRevision === null || cs.machine || !this.spaces.has(cs.id)) return;
    const sch = this.o.scheduler;
    const now = sch.now();
    const fromBus = cs.lastPulse;
    const useLease = lease && lease.seq > (fromBus?.seq ?? 0);
    const seq = useLease ? lease.seq : (fromBus?.seq ?? 0);
    const smoothed = useLease ? lease.smoothed : (fromBus?.smoothed ?? null);
    const smoothedAt = useLease ? lease.at : (fromBus?.at ?? now);
    // It decides over this node's governance state of the space, read back from storage first
    // (Q12): the council, policies and their cooldowns, the feedback in force go on (K12).
    const machine = createOwnerState(st.space, host.options, st.gov, { kind: 'started', at: now, pulseSeq: seq, ...(smoothed ? { smoothed, smoothedAt } : {}) }, { evalErrors: Math.max(this.evalErrorsOf(cs), lease?.evalErrors ?? 0), stories: st.stories });
    cs.machine = machine;
    if (fromBus || lease) this.takeovers.push({ spaceId: cs.id, at: now, sincePulseMs: fromBus ? now - fromBus.at : null });
    this.startBeats(cs);
  }

  /** The owner's drift-free beats, from now (M2's beat plan: beat 0 is a participant beat). */
  private startBeats(cs: ClusterSpace): void {
    const host = this.host;
    if (!host) return;
    const sch = this.o.scheduler;
    const now = sch.now();
    cs.beat?.cancel();
    const { displayHz, participantHz } = host.options;
    const period = beatPeriodMs(displayHz, participantHz);
    const beat = (i: number, at: number) => this.tick(cs, at, isParticipantBeat(i, displayHz, participantHz));
    beat(0, now);
    cs.beat = sch.every(period, (at, k) => beat(k + 1, at), now + period);
  }

  /** The lease is someone else's (or gone): stop ticking and drop the owner machine. */
  private stopTicking(cs: ClusterSpace): void {
    if (cs.machine) this.leaseObserver?.setLeaseOwned(cs.id, false);
    cs.beat?.cancel();
    cs.beat = null;
    cs.machine = null;
    cs.ownedRevision = null;
  }

  /**
   * Renewals are late (a busy machine, a slow NATS): stop ticking before anyone may take over,
   * but keep the machine — if the next renewal of our own revision succeeds, nobody ticked
   * meanwhile and we go on with it (K2).
   */
  private pause(cs: ClusterSpace): void {
    if (!cs.beat) return;
    cs.beat.cancel();
    cs.beat = null;
    this.leaseObserver?.setLeaseOwned(cs.id, false);
  }

  /** One beat of the owner: merge the fresh partials, step the tick, publish once (K3, K4). */
  private tick(cs: ClusterSpace, at: number, participant: boolean): void {
    const machine = cs.machine;
    if (!machine || this.stopped) return;
    const now = this.o.scheduler.now();
    // Never tick on a lease another node may already have taken (K2).
    if (now - cs.renewedAt > this.t.leaseMs - this.t.renewMs) {
      this.pause(cs);
      return;
    }
    const fresh: PartialAggregate[] = [];
    for (const [node, h] of cs.partials) {
      if (now - h.receivedAt <= this.t.partialTtlMs) fresh.push(h.partial);
      else {
        cs.partials.delete(node);
        cs.hearts.delete(node);
      }
    }
    // Every fresh node's last heart window, by node id, so the merge's order does not depend on arrival (K10).
    const hearts = fresh
      .map((p) => p.node)
      .sort()
      .flatMap((n) => {
        const w = cs.hearts.get(n);
        return w ? [w] : [];
      });
    const merged = { ...mergePartials(fresh, machine.pulse.grid.bins, machine.pulse.groupGrids.length), heart: hearts };
    let r: ReturnType<typeof step>;
    try {
      r = step(machine, { kind: 'tick', at, participant, merged });
    } catch (e) {
      this.report(`tick of space ${cs.id}`, e);
      return;
    }
    for (const fx of r.effects) {
      if (fx.type === 'publish') {
        const bytes = enc.encode(encodeView(fx.view));
        if (cs.published.at(-1) !== fx.view.seq) {
          cs.published.push(fx.view.seq);
          if (cs.published.length > PUBLISHED_KEPT) cs.published.shift();
        }
        if (fx.displays) this.o.bus.publish(subjects.displayPulse(cs.id), bytes);
        if (fx.participants) this.o.bus.publish(subjects.participantPulse(cs.id), bytes);
        if (!fx.displays && !fx.participants) this.onPulse(cs, bytes);
      } else if (fx.type === 'stories') {
        // The gathering display over the merged count (ST9, ST15): published once, for every node's displays.
        this.o.bus.publish(subjects.stories(cs.id), enc.encode(JSON.stringify(fx.view)));
      } else if (fx.type === 'logAct') {
        // A decision over the merged pulse: logged, then applied on this node's machine (K12).
        this.host?.logDecision(cs.id, fx);
      } else if (fx.type === 'persist' && fx.write.kind === 'series') {
        const w = fx.write;
        this.o.storage.appendPulsePoints([{ spaceId: cs.id, at: w.at, count: w.count, valence: w.mean.valence, arousal: w.mean.arousal, spreadValence: w.spread.valence, spreadArousal: w.spread.arousal, quadrants: w.quadrants }]).catch((e) => this.report('could not store the pulse series', e));
      }
    }
  }

  /**
   * Leaves the cluster: stops ticking and hands every lease it owns over at once (released, so
   * another node takes the tick on its next round instead of waiting for expiry). With
   * `handOver: false` it just goes silent, as a node cut off from NATS does: the others wait for
   * its lease to expire.
   */
  async stop(o: { readonly handOver?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    const handOver = o.handOver ?? true;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.prompt?.cancel();
    this.prompt = null;
    this.announce?.dispose();
    this.replies?.dispose();
    for (const w of [...this.sent.values()]) w.resolve(fail('UNAVAILABLE', 'this node is shutting down; try again'));
    const releases: Promise<unknown>[] = [];
    for (const cs of [...this.spaces.values()]) {
      const rev = cs.ownedRevision;
      this.untrack(cs, false);
      if (rev !== null && handOver) releases.push(this.o.kv.update(leaseKey(cs.id), this.leaseValue(cs, null), rev).catch(() => null));
    }
    await Promise.all(releases);
  }
}
