/**
 * The governed response loop of one space (SPEC §Q), as part of the space machine: a council,
 * its proposals and votes, the active policies, and what they set — the feedback mode, display
 * overrides, notices. Pure and deterministic: time comes from events, ids from the host, and a
 * policy is evaluated only on participant ticks over the released view, so replay re-derives
 * every `policy.fired` and `feedback.changed` bit for bit.
 *
 *   request (host, with ids) ─▶ checkAct ─▶ logAct ─(durable)─▶ act-logged ─▶ applyAct
 *
 *   proposed ──votes──▶ adopted (quorum reached before expiry) = active ──▶ retired
 *        └──(expiry, logged: `policy.expired`)──▶ expired
 *
 *   participant tick: history ← view; if nothing is pending: a proposal past its expiry without
 *   its quorum → `policy.expired`; expiry of feedback/overrides → `feedback.changed`; else the
 *   first active policy (in adoption order) out of cooldown whose expression is true →
 *   `policy.fired`. At most one decision is in flight at a time (`pending`), cleared when its
 *   entry is durable (applied) or its log write failed (nothing happens).
 */
import { type DisplayMode, isDisplayMode } from '../displayMode.ts';
import type { GovernanceAct } from '../governance.ts';
import type { PulseView } from '../space/events.ts';
import { actionKind, boundsOf, type FeedbackMode, type PolicyAction } from './actions.ts';
import { checkPolicy, type CompiledWhen, type PolicyJson, type PolicySpec } from './checkPolicy.ts';
import { type CouncilRules, MAX_MEMBERS, votesNeeded } from './council.ts';
import { historyPointOf, PolicyHistory, policyInputOf } from './policyInput.ts';
import { sha256Hex } from './sha256.ts';

/** Who did something: the steward, a member (by id), or the machine itself (expiry). */
export type Actor = { readonly steward: true } | { readonly member: string } | { readonly machine: 'expiry' | 'quorum' };

/** A council and governance act (a SpaceAct the machine applies once logged). Ids come from the host. */
export type CouncilAct =
  | { readonly kind: 'council-create'; readonly councilId: string; readonly rules: CouncilRules }
  | { readonly kind: 'member-add'; readonly memberId: string; readonly name: string; readonly tokenHash: string }
  | { readonly kind: 'member-remove'; readonly memberId: string; readonly by: Actor }
  | { readonly kind: 'policy-propose'; readonly proposalId: string; readonly by: string; readonly policy: PolicyJson; readonly amends?: string }
  | { readonly kind: 'rules-propose'; readonly proposalId: string; readonly by: string; readonly rules: CouncilRules }
  | { readonly kind: 'policy-vote'; readonly proposalId: string; readonly memberId: string; readonly vote: 'yes' | 'no' }
  | { readonly kind: 'policy-adopt'; readonly proposalId: string; readonly at: number }
  /** The machine's decision that an open proposal's lifetime ended without its quorum (Q2, Q10). */
  | { readonly kind: 'proposal-expire'; readonly proposalId: string; readonly at: number }
  | { readonly kind: 'policy-retire'; readonly policyId: string; readonly by: Actor }
  | { readonly kind: 'policy-fire'; readonly policyId: string; readonly version: number; readonly at: number; readonly pulseSeq: number; readonly pulseHash: string; readonly action: PolicyAction }
  | { readonly kind: 'feedback-set'; readonly slot: 'feedback' | 'display'; readonly at: number; readonly mode: string; readonly minutes: number | null; readonly by: Actor }
  | { readonly kind: 'display-mode'; readonly mode: DisplayMode; readonly by: Actor }
  /** The space was set up from a template (Q14): its name, allowed inputs and grid words. */
  | { readonly kind: 'space-template'; readonly template: string; readonly inputs: SpaceSettingsFromTemplate['inputs']; readonly words: SpaceSettingsFromTemplate['words'] };

/** What a template set that the space keeps (Q14). */
export interface SpaceSettingsFromTemplate {
  readonly template: string;
  readonly inputs: { readonly tap: boolean; readonly text: boolean; readonly heart: boolean };
  readonly words: { readonly pleasant: string; readonly unpleasant: string; readonly calm: string; readonly energised: string } | null;
}

/** A council member (the token is only ever stored as its hash). */
export interface Member {
  readonly id: string;
  readonly name: string;
  readonly tokenHash: string;
  readonly addedAt: number;
}

/** A proposal and its votes. */
export interface Proposal {
  readonly id: string;
  readonly kind: 'policy' | 'rules';
  readonly by: string;
  readonly at: number;
  readonly expiresAt: number;
  readonly policy?: PolicyJson;
  readonly amends?: string;
  readonly rules?: CouncilRules;
  readonly votes: Record<string, 'yes' | 'no'>;
  status: 'open' | 'adopted' | 'expired';
}

/** An adopted policy. */
export interface PolicyEntry {
  readonly id: string;
  readonly version: number;
  readonly spec: PolicySpec;
  readonly proposalId: string;
  readonly adoptedAt: number;
  status: 'active' | 'retired';
  retiredAt: number | null;
  lastFiredAt: number | null;
  fired: number;
}

/** Which policy set something, as screens show it. */
export interface SetBy {
  readonly id: string;
  readonly version: number;
  readonly name: string;
}

/** The feedback in force (what participants' and displays' screens show). */
export interface FeedbackState {
  readonly mode: FeedbackMode;
  readonly policy: SetBy | null;
  readonly reason: string;
  readonly since: number;
  readonly until: number | null;
  /** The public log entry that set it (null when the log did not say, e.g. a test sink). */
  readonly entry: number | null;
  readonly breathsPerMinute?: number;
  readonly prompt?: string;
}

/** Display settings in force: the steward's mode, and a policy's temporary override. */
export interface DisplayState {
  readonly mode: DisplayMode;
  readonly by: 'default' | 'steward' | 'policy';
  readonly since: number;
  readonly entry: number | null;
  readonly override: {
    readonly mode?: DisplayMode;
    readonly smoothingSeconds?: number;
    readonly showCrowd?: boolean;
    readonly paused: boolean;
    readonly until: number;
    readonly policy: SetBy;
    readonly reason: string;
    readonly entry: number | null;
  } | null;
}

/**
 * A notification a policy's `notify` action sent (Q5): addressed to the steward or the council,
 * numbered per space (`n` = 1, 2, …) so the pages read only what is new. Stored with the rest of
 * the governance state (S12); read with the steward's or a member's token (Q13).
 */
export interface Notice {
  readonly n: number;
  readonly at: number;
  readonly audience: 'steward' | 'council';
  readonly message: string;
  readonly policy: SetBy;
  readonly entry: number | null;
}

/** The governance state of a space (inside SpaceState). */
export interface GovernanceState {
  council: { readonly id: string; readonly createdAt: number; rules: CouncilRules } | null;
  readonly members: Map<string, Member>;
  readonly proposals: Map<string, Proposal>;
  /** Adopted policies by id (newest version), in adoption order. */
  readonly policies: Map<string, PolicyEntry>;
  feedback: FeedbackState | null;
  display: DisplayState;
  /** The last {@link MAX_NOTICES} notifications, newest first. */
  readonly notices: Notice[];
  /** The number of the last notification sent (0: none yet). */
  noticeSeq: number;
  /** A decision (fire or expiry) awaiting its log entry: no other decision until it settles. */
  pending: boolean;
  /** Derived: compiled expressions of the active policies, in adoption order. */
  readonly compiled: { readonly entry: PolicyEntry; readonly run: CompiledWhen }[];
  /** Derived: recent released figures (reset when the space restarts). */
  history: PolicyHistory;
  /** Participants who opted out of adaptive feedback (they keep seeing mirror). */
  readonly optedOut: Set<string>;
  /** Expressions that failed at run time (counted, treated as false). */
  evalErrors: number;
  /** An applied act changed what screens show: the next participant beat publishes. */
  changed: boolean;
  /** What the space's template set (Q14), or null. */
  settings: SpaceSettingsFromTemplate | null;
  /**
   * The public log index of the last entry applied to this state, or null (none with an index
   * yet): stored with it, so a cluster's taker applies the space's acts logged after it (K12).
   */
  applied: number | null;
}

/** Notifications kept per space (older ones remain on the public log as `policy.fired`). */
export const MAX_NOTICES = 100;

/** A fresh governance state: no council, mirror, the default display mode. */
export function newGovernance(): GovernanceState {
  return {
    council: null,
    members: new Map(),
    proposals: new Map(),
    policies: new Map(),
    feedback: null,
    display: { mode: 'field', by: 'default', since: 0, entry: null, override: null },
    notices: [],
    noticeSeq: 0,
    pending: false,
    compiled: [],
    history: new PolicyHistory(),
    optedOut: new Set(),
    evalErrors: 0,
    changed: false,
    settings: null,
    applied: null,
  };
}

/** Whether screens are told about governance (a council exists, or something was set): older spaces' pulses stay byte-identical. */
export function governanceShown(g: GovernanceState): boolean {
  return g.council !== null || g.feedback !== null || g.display.by !== 'default';
}

/** The feedback and display fields a released view carries (P6, Q8). */
export function governanceFields(g: GovernanceState): { feedback?: Record<string, unknown>; display: Record<string, unknown> } {
  const f = g.feedback;
  const feedback = f
    ? { mode: f.mode, policy: f.policy, reason: f.reason, since: f.since, until: f.until, entry: f.entry, ...(f.breathsPerMinute !== undefined ? { breathsPerMinute: f.breathsPerMinute } : {}), ...(f.prompt !== undefined ? { prompt: f.prompt } : {}) }
    : { mode: 'mirror', policy: null, reason: 'the room as it is', since: null, until: null, entry: null };
  const d = g.display;
  const o = d.override;
  const display = {
    mode: o?.mode ?? d.mode,
    by: o ? 'policy' : d.by,
    entry: o ? o.entry : d.entry,
    smoothingSeconds: o?.smoothingSeconds ?? null,
    showCrowd: o?.showCrowd ?? true,
    paused: o?.paused ?? false,
    until: o?.until ?? null,
    policy: o?.policy ?? null,
    reason: o?.reason ?? null,
  };
  // Feedback only where a council could set it (or the steward did): a space whose steward only
  // chose a display mode shows no feedback banner.
  return g.council !== null || g.feedback !== null ? { feedback, display } : { display };
}

function rebuildCompiled(g: GovernanceState, groups: readonly string[]): void {
  g.compiled.length = 0;
  const prompts = g.council?.rules.prompts.length ?? 0;
  for (const entry of g.policies.values()) {
    if (entry.status !== 'active') continue;
    const c = checkPolicy(entry.spec, groups, prompts);
    // A policy adopted under an older schema that no longer checks stays adopted but never fires.
    if (c.ok) g.compiled.push({ entry, run: c.run });
  }
}

const actorOf = (a: Actor) => ('steward' in a ? 'steward' : 'member' in a ? a.member : a.machine);

/**
 * Whether an act may be asked for now (before it is logged); null = yes, else the refusal.
 * The same rules are applied again, silently, when the logged act is applied.
 */
export function refuseAct(g: GovernanceState, act: CouncilAct, at: number, groups: readonly string[]): { code: 'BAD_REQUEST' | 'CONFLICT' | 'NOT_FOUND' | 'UNAUTHORIZED'; message: string } | null {
  const council = g.council;
  switch (act.kind) {
    case 'council-create':
      return council ? { code: 'CONFLICT', message: 'this space already has a council' } : null;
    case 'display-mode':
    case 'feedback-set':
    case 'space-template':
      return null;
    default:
      if (!council) return { code: 'NOT_FOUND', message: 'this space has no council; the steward creates one first' };
  }
  switch (act.kind) {
    case 'member-add':
      if (g.members.size >= MAX_MEMBERS) return { code: 'CONFLICT', message: `a council has at most ${MAX_MEMBERS} members` };
      return null;
    case 'member-remove':
      return g.members.has(act.memberId) ? null : { code: 'NOT_FOUND', message: 'no such member' };
    case 'policy-propose':
    case 'rules-propose': {
      // The steward proposes only the policies of the space's template, at creation (Q14).
      if (!g.members.has(act.by) && act.by !== 'steward') return { code: 'UNAUTHORIZED', message: 'only a council member may propose' };
      if (act.kind === 'policy-propose') {
        const c = checkPolicy(act.policy, groups, council.rules.prompts.length);
        if (!c.ok) return { code: 'BAD_REQUEST', message: c.problem.message };
        if (act.amends !== undefined && g.policies.get(act.amends)?.status !== 'active') return { code: 'NOT_FOUND', message: 'amends: no active policy has that id' };
      }
      return null;
    }
    case 'policy-vote': {
      const p = g.proposals.get(act.proposalId);
      if (!p) return { code: 'NOT_FOUND', message: 'no such proposal' };
      if (!g.members.has(act.memberId)) return { code: 'UNAUTHORIZED', message: 'only a council member may vote' };
      if (p.status !== 'open' || at >= p.expiresAt) return { code: 'CONFLICT', message: `the proposal is ${p.status === 'open' ? 'expired' : p.status}` };
      if (p.votes[act.memberId] !== undefined) return { code: 'CONFLICT', message: 'you already voted on this proposal' };
      return null;
    }
    case 'policy-retire': {
      const p = g.policies.get(act.policyId);
      return p?.status === 'active' ? null : { code: 'NOT_FOUND', message: 'no active policy has that id' };
    }
    default:
      return null;
  }
}

/** The public log entry of an act (SPEC Q10). Never a token, a token hash or anything about a participant. */
export function governanceActOf(spaceId: string, act: CouncilAct, at: number, g: GovernanceState): GovernanceAct {
  const councilId = g.council?.id ?? (act.kind === 'council-create' ? act.councilId : null);
  const base = { space: spaceId, at };
  switch (act.kind) {
    case 'council-create':
      return { ...base, type: 'council.created', payload: { council: act.councilId, rules: { ...act.rules, prompts: [...act.rules.prompts] } } };
    case 'member-add':
      return { ...base, type: 'council.member.added', payload: { council: councilId, seat: act.memberId, name: act.name } };
    case 'member-remove':
      return { ...base, type: 'council.member.removed', payload: { council: councilId, seat: act.memberId, by: actorOf(act.by) } };
    case 'policy-propose':
      return { ...base, type: 'policy.proposed', payload: { council: councilId, proposal: act.proposalId, by: act.by, kind: 'policy', policy: act.policy as unknown as Record<string, unknown>, amends: act.amends ?? null, expiresAt: at + (g.council?.rules.proposalSeconds ?? 0) * 1000 } };
    case 'rules-propose':
      return { ...base, type: 'policy.proposed', payload: { council: councilId, proposal: act.proposalId, by: act.by, kind: 'rules', rules: { ...act.rules, prompts: [...act.rules.prompts] }, expiresAt: at + (g.council?.rules.proposalSeconds ?? 0) * 1000 } };
    case 'policy-vote':
      return { ...base, type: 'policy.vote', payload: { council: councilId, proposal: act.proposalId, seat: act.memberId, vote: act.vote } };
    case 'policy-adopt': {
      const p = g.proposals.get(act.proposalId);
      const yes = p ? Object.values(p.votes).filter((v) => v === 'yes').length : 0;
      const id = p?.amends ?? act.proposalId;
      const version = p?.kind === 'policy' ? (p.amends ? (g.policies.get(p.amends)?.version ?? 0) + 1 : 1) : null;
      return { ...base, type: 'policy.adopted', payload: { council: councilId, proposal: act.proposalId, kind: p?.kind ?? 'policy', policy: p?.kind === 'policy' ? id : null, version, yes, seats: g.members.size, needed: g.council ? votesNeeded(g.council.rules, g.members.size) : null } };
    }
    case 'proposal-expire': {
      const p = g.proposals.get(act.proposalId);
      const votes = p ? Object.values(p.votes) : [];
      return { ...base, type: 'policy.expired', payload: { council: councilId, proposal: act.proposalId, kind: p?.kind ?? 'policy', expiresAt: p?.expiresAt ?? null, yes: votes.filter((v) => v === 'yes').length, no: votes.filter((v) => v === 'no').length, seats: g.members.size, needed: g.council ? votesNeeded(g.council.rules, g.members.size) : null } };
    }
    case 'policy-retire': {
      const p = g.policies.get(act.policyId);
      return { ...base, type: 'policy.retired', payload: { council: councilId, policy: act.policyId, version: p?.version ?? null, by: actorOf(act.by) } };
    }
    case 'policy-fire': {
      const p = g.policies.get(act.policyId);
      return { ...base, type: 'policy.fired', payload: { council: councilId, policy: act.policyId, version: act.version, name: p?.spec.name ?? null, pulseSeq: act.pulseSeq, pulseHash: act.pulseHash, action: act.action as unknown as Record<string, unknown>, bounds: boundsOf(act.action) as unknown as Record<string, unknown> } };
    }
    case 'feedback-set':
      return { ...base, type: 'feedback.changed', payload: { slot: act.slot, mode: act.mode, minutes: act.minutes, by: actorOf(act.by) } };
    case 'display-mode':
      return { ...base, type: 'display.changed', payload: { mode: act.mode, by: actorOf(act.by) } };
    case 'space-template':
      return { ...base, type: 'space.template', payload: { template: act.template, allow: (['tap', 'text', 'heart'] as const).filter((k) => act.inputs[k]), words: act.words ? { ...act.words } : null } };
  }
}

/** The kinds of act the machine decides itself (re-derived by replay, SPEC Q11). */
export function isDerived(act: { readonly kind: string }): boolean {
  return act.kind === 'policy-fire' || act.kind === 'policy-adopt' || act.kind === 'proposal-expire' || (act.kind === 'feedback-set' && 'by' in act && typeof act.by === 'object' && act.by !== null && 'machine' in act.by);
}

/**
 * Applies a logged act. Returns the acts the machine now decides (e.g. adoption once a vote
 * reaches quorum), to be logged in turn.
 */
export function applyAct(g: GovernanceState, act: CouncilAct, at: number, entry: number | null, groups: readonly string[]): CouncilAct[] {
  const then: CouncilAct[] = [];
  if (entry !== null) g.applied = Math.max(g.applied ?? entry, entry);
  switch (act.kind) {
    case 'council-create':
      if (!g.council) g.council = { id: act.councilId, createdAt: at, rules: act.rules };
      break;
    case 'member-add':
      if (g.council && !g.members.has(act.memberId)) g.members.set(act.memberId, { id: act.memberId, name: act.name, tokenHash: act.tokenHash, addedAt: at });
      break;
    case 'member-remove':
      g.members.delete(act.memberId);
      break;
    case 'policy-propose':
    case 'rules-propose': {
      if (!g.council || g.proposals.has(act.proposalId)) break;
      const expiresAt = at + g.council.rules.proposalSeconds * 1000;
      const p: Proposal = act.kind === 'policy-propose'
        ? { id: act.proposalId, kind: 'policy', by: act.by, at, expiresAt, policy: act.policy, ...(act.amends !== undefined ? { amends: act.amends } : {}), votes: {}, status: 'open' }
        : { id: act.proposalId, kind: 'rules', by: act.by, at, expiresAt, rules: act.rules, votes: {}, status: 'open' };
      g.proposals.set(p.id, p);
      break;
    }
    case 'policy-vote': {
      const p = g.proposals.get(act.proposalId);
      if (!p || !g.council || p.status !== 'open' || at >= p.expiresAt || !g.members.has(act.memberId)) break;
      p.votes[act.memberId] = act.vote;
      const yes = Object.entries(p.votes).filter(([m, v]) => v === 'yes' && g.members.has(m)).length;
      if (yes >= votesNeeded(g.council.rules, g.members.size)) then.push({ kind: 'policy-adopt', proposalId: p.id, at });
      break;
    }
    case 'policy-adopt': {
      const p = g.proposals.get(act.proposalId);
      if (p?.status !== 'open' || !g.council) break;
      p.status = 'adopted';
      if (p.kind === 'rules' && p.rules) g.council.rules = p.rules;
      else if (p.policy) {
        const c = checkPolicy(p.policy, groups, g.council.rules.prompts.length);
        if (!c.ok) break;
        const prior = p.amends ? g.policies.get(p.amends) : undefined;
        if (prior) {
          prior.status = 'retired';
          prior.retiredAt = at;
          g.policies.delete(prior.id);
        }
        const id = prior?.id ?? p.id;
        g.policies.set(id, { id, version: (prior?.version ?? 0) + 1, spec: c.spec, proposalId: p.id, adoptedAt: at, status: 'active', retiredAt: null, lastFiredAt: prior?.lastFiredAt ?? null, fired: 0 });
      }
      rebuildCompiled(g, groups);
      break;
    }
    case 'proposal-expire': {
      g.pending = false;
      const p = g.proposals.get(act.proposalId);
      if (p?.status === 'open') p.status = 'expired';
      break;
    }
    case 'policy-retire': {
      const p = g.policies.get(act.policyId);
      if (p?.status !== 'active') break;
      p.status = 'retired';
      p.retiredAt = at;
      rebuildCompiled(g, groups);
      break;
    }
    case 'policy-fire': {
      g.pending = false;
      const p = g.policies.get(act.policyId);
      if (!p) break;
      p.lastFiredAt = act.at;
      p.fired++;
      const by: SetBy = { id: p.id, version: act.version, name: p.spec.name };
      const a = act.action;
      if ('feedback' in a) {
        const f = a.feedback;
        const prompt = f.prompt !== undefined ? g.council?.rules.prompts[f.prompt] : undefined;
        g.feedback = { mode: f.mode, policy: by, reason: p.spec.reason, since: act.at, until: act.at + f.minutes * 60_000, entry, ...(f.breathsPerMinute !== undefined ? { breathsPerMinute: f.breathsPerMinute } : {}), ...(prompt !== undefined ? { prompt } : {}) };
      } else if ('display' in a || 'pause' in a) {
        const d = 'display' in a ? a.display : null;
        const minutes = d ? d.minutes : 'pause' in a ? a.pause.minutes : 1;
        g.display = {
          ...g.display,
          override: { ...(d?.mode !== undefined ? { mode: d.mode } : {}), ...(d?.smoothingSeconds !== undefined ? { smoothingSeconds: d.smoothingSeconds } : {}), ...(d?.showCrowd !== undefined ? { showCrowd: d.showCrowd } : {}), paused: !d, until: act.at + minutes * 60_000, policy: by, reason: p.spec.reason, entry },
        };
      } else if ('notify' in a) {
        g.noticeSeq++;
        g.notices.unshift({ n: g.noticeSeq, at: act.at, audience: a.notify.audience, message: a.notify.message ?? p.spec.reason, policy: by, entry });
        if (g.notices.length > MAX_NOTICES) g.notices.pop();
      }
      break;
    }
    case 'feedback-set': {
      if ('machine' in act.by) g.pending = false;
      if (act.slot === 'feedback') {
        g.feedback = 'machine' in act.by || act.mode === 'mirror' ? null : { mode: act.mode as FeedbackMode, policy: null, reason: 'set by the steward', since: act.at, until: act.minutes === null ? null : act.at + act.minutes * 60_000, entry };
      } else g.display = { ...g.display, override: null };
      break;
    }
    case 'display-mode':
      g.display = { ...g.display, mode: act.mode, by: 'steward' in act.by ? 'steward' : 'policy', since: at, entry };
      break;
    case 'space-template':
      g.settings = { template: act.template, inputs: act.inputs, words: act.words };
      break;
  }
  return then;
}

/** A decision's log write failed: nothing happened; the machine may decide again. */
export function decisionFailed(g: GovernanceState, act: CouncilAct): void {
  if (isDerived(act) && act.kind !== 'policy-adopt') g.pending = false;
}

/** Yes votes of current members on a proposal. */
function yesOf(g: GovernanceState, p: Proposal): number {
  let yes = 0;
  for (const [m, v] of Object.entries(p.votes)) if (v === 'yes' && g.members.has(m)) yes++;
  return yes;
}

/**
 * The first open proposal whose lifetime is over at `at` and that has not reached its quorum
 * (one that has is being adopted: its `policy.adopted` is on its way to the log).
 */
function expiredProposal(g: GovernanceState, at: number): Proposal | null {
  if (!g.council) return null;
  const needed = votesNeeded(g.council.rules, g.members.size);
  for (const p of g.proposals.values()) if (p.status === 'open' && at >= p.expiresAt && yesOf(g, p) < needed) return p;
  return null;
}

/**
 * Whether a decision on time is due at `at` (a proposal, feedback or display override past its
 * end): the machine then ticks even in an empty, unwatched room, so expiries are logged on time.
 */
export function decisionDue(g: GovernanceState, at: number): boolean {
  if (g.pending) return false;
  if (g.feedback !== null && g.feedback.until !== null && at >= g.feedback.until) return true;
  if (g.display.override && at >= g.display.override.until) return true;
  return expiredProposal(g, at) !== null;
}

/**
 * One participant tick over the released view (Q6–Q9): records history, then at most one
 * decision — a proposal's expiry (`policy.expired`), a feedback or display expiry (back to
 * mirror / the steward's display) or a policy firing. Returns the act to log, or null.
 * O(proposals + active policies); CEL evaluations only for active policies.
 */
export function decide(g: GovernanceState, view: PulseView, at: number, groups: readonly string[]): CouncilAct | null {
  if (!view.suppressed) g.history.push(historyPointOf(view));
  if (g.pending) return null;
  // A proposal's lifetime ends on the log before its state changes (Q2, Q10).
  const expired = expiredProposal(g, at);
  if (expired) {
    g.pending = true;
    return { kind: 'proposal-expire', proposalId: expired.id, at };
  }
  // Expiry does not depend on who is in the room: it happens on time even when the pulse is withheld.
  if (g.feedback?.until !== null && g.feedback !== null && at >= (g.feedback.until as number)) {
    g.pending = true;
    return { kind: 'feedback-set', slot: 'feedback', at, mode: 'mirror', minutes: null, by: { machine: 'expiry' } };
  }
  if (g.display.override && at >= g.display.override.until) {
    g.pending = true;
    return { kind: 'feedback-set', slot: 'display', at, mode: g.display.mode, minutes: null, by: { machine: 'expiry' } };
  }
  if (g.compiled.length === 0 || view.suppressed) return null;
  const input = policyInputOf(view, g.history, groups);
  for (const { entry, run } of g.compiled) {
    if (entry.lastFiredAt !== null && at < entry.lastFiredAt + entry.spec.cooldownSeconds * 1000) continue;
    let fire = false;
    try {
      fire = run(input);
    } catch {
      g.evalErrors++;
    }
    if (!fire) continue;
    g.pending = true;
    return { kind: 'policy-fire', policyId: entry.id, version: entry.version, at, pulseSeq: view.seq, pulseHash: sha256Hex(JSON.stringify(view)), action: entry.spec.then };
  }
  return null;
}

/** What survives a restart (storage): everything but derived state. */
export interface GovernanceSnapshot {
  readonly v: 1;
  readonly council: GovernanceState['council'];
  readonly members: readonly Member[];
  readonly proposals: readonly Proposal[];
  readonly policies: readonly PolicyEntry[];
  readonly feedback: FeedbackState | null;
  readonly display: DisplayState;
  readonly notices: readonly Notice[];
  readonly settings?: SpaceSettingsFromTemplate | null;
  /** The last log entry applied (K12); absent before any entry with an index. */
  readonly applied?: number;
}

/** The snapshot of a state. */
export function snapshotOf(g: GovernanceState): GovernanceSnapshot {
  return { v: 1, council: g.council, members: [...g.members.values()], proposals: [...g.proposals.values()], policies: [...g.policies.values()], feedback: g.feedback, display: g.display, notices: g.notices, settings: g.settings, ...(g.applied !== null ? { applied: g.applied } : {}) };
}

/** Restores a snapshot into a fresh state (policies are compiled again). */
export function restoreGovernance(g: GovernanceState, s: GovernanceSnapshot, groups: readonly string[]): void {
  g.council = s.council;
  for (const m of s.members) g.members.set(m.id, m);
  for (const p of s.proposals) g.proposals.set(p.id, { ...p, votes: { ...p.votes } });
  for (const p of s.policies) g.policies.set(p.id, { ...p });
  g.feedback = s.feedback;
  g.display = s.display;
  // Notices stored before they were numbered get numbers in the order they were sent.
  const count = s.notices.length;
  g.notices.push(...s.notices.map((x, i) => (typeof x.n === 'number' ? x : { ...x, n: count - i })));
  g.noticeSeq = g.notices.reduce((m, x) => Math.max(m, x.n), 0);
  g.settings = s.settings ?? null;
  g.applied = typeof s.applied === 'number' ? s.applied : null;
  rebuildCompiled(g, groups);
}

/**
 * Replaces a state's council, members, proposals, policies and what they set with a stored
 * snapshot (a cluster node's copy after another node applied an act, K12). Derived state —
 * the history window, opt-outs, a decision in flight — stays.
 */
export function replaceGovernance(g: GovernanceState, s: GovernanceSnapshot, groups: readonly string[]): void {
  g.members.clear();
  g.proposals.clear();
  g.policies.clear();
  g.notices.length = 0;
  g.council = null;
  g.feedback = null;
  restoreGovernance(g, s, groups);
}

/**
 * The council act a public log entry records, rebuilt from the entry alone (K12: a taker applies
 * what a dead owner logged but never applied), or null for entries that do not hold all of it:
 * `council.member.added` (the token hash is never logged — and the member token was never handed
 * out, since an act is answered only once applied), `policy.proposed`, `council.created` and
 * `space.template` (never answered either, so nobody holds their ids; asked again, they are
 * logged again), and every entry that is not a council act.
 */
export function councilActOfEntry(type: string, p: Readonly<Record<string, unknown>>, at: number): CouncilAct | null {
  const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
  const actor = (x: unknown): Actor | null => (x === 'steward' ? { steward: true } : x === 'expiry' || x === 'quorum' ? { machine: x } : str(x) ? { member: x } : null);
  switch (type) {
    case 'policy.fired':
      if (!str(p.policy) || !Number.isSafeInteger(p.version) || !Number.isSafeInteger(p.pulseSeq) || !str(p.pulseHash) || typeof p.action !== 'object' || p.action === null) return null;
      return { kind: 'policy-fire', policyId: p.policy, version: p.version as number, at, pulseSeq: p.pulseSeq as number, pulseHash: p.pulseHash, action: p.action as PolicyAction };
    case 'policy.adopted':
      return str(p.proposal) ? { kind: 'policy-adopt', proposalId: p.proposal, at } : null;
    case 'policy.expired':
      return str(p.proposal) ? { kind: 'proposal-expire', proposalId: p.proposal, at } : null;
    case 'feedback.changed': {
      const by = actor(p.by);
      if (!by || (p.slot !== 'feedback' && p.slot !== 'display') || !str(p.mode) || !(p.minutes === null || typeof p.minutes === 'number')) return null;
      return { kind: 'feedback-set', slot: p.slot, at, mode: p.mode, minutes: p.minutes, by };
    }
    case 'display.changed': {
      const by = actor(p.by);
      return by && isDisplayMode(p.mode) ? { kind: 'display-mode', mode: p.mode, by } : null;
    }
    case 'policy.vote':
      return str(p.proposal) && str(p.seat) && (p.vote === 'yes' || p.vote === 'no') ? { kind: 'policy-vote', proposalId: p.proposal, memberId: p.seat, vote: p.vote } : null;
    case 'policy.retired': {
      const by = actor(p.by);
      return str(p.policy) && by ? { kind: 'policy-retire', policyId: p.policy, by } : null;
    }
    case 'council.member.removed': {
      const by = actor(p.by);
      return str(p.seat) && by ? { kind: 'member-remove', memberId: p.seat, by } : null;
    }
    default:
      return null;
  }
}

/** The kind of an action, re-exported for readers of fired acts. */
export { actionKind };
