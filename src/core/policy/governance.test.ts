/**
 * The governance part of the space machine, stepped directly (no host): quorum rules, proposal
 * lifetime, cooldowns, one decision in flight, a failed log write changing nothing.
 */
import { describe, expect, it } from 'vitest';
import type { Effect, SpaceAct, SpaceEvent } from '../space/events.ts';
import { createSpaceState, type SpaceState, step } from '../space/machine.ts';
import { checkRules, votesNeeded } from './council.ts';
import { type CouncilAct, councilActOfEntry, governanceActOf, newGovernance } from './governance.ts';
import { policyJson } from './policyJson.ts';

const space = { id: 's1', code: 'ABCD2345', name: 'room', capacity: 100, ttlMs: 600_000 };

function machine(): SpaceState {
  const s = createSpaceState(space, { release: { minCohort: 3 }, collective: false, heart: false });
  step(s, { kind: 'started', at: 0, pulseSeq: 0 });
  return s;
}

/** Requests an act and, if the machine asks for it to be logged, applies it as logged; returns what was logged. */
function act(s: SpaceState, a: SpaceAct, at: number): string[] {
  const r = step(s, { kind: 'act-requested', at, act: a, reply: 1 });
  const logged: string[] = [];
  const queue: Effect[] = [...r.effects];
  for (let fx = queue.shift(); fx; fx = queue.shift()) {
    if (fx.type === 'notify' && fx.msg.t === 'error') logged.push(`refused:${fx.msg.code}`);
    if (fx.type !== 'logAct') continue;
    logged.push(fx.act.type);
    queue.push(...step(s, fx.next).effects);
  }
  return logged;
}

function council(s: SpaceState, rules: unknown, members: number) {
  const r = checkRules(rules);
  if (!r.ok) throw new Error(r.message);
  act(s, { kind: 'council-create', councilId: 'c1', rules: r.rules }, 1);
  for (let i = 0; i < members; i++) act(s, { kind: 'member-add', memberId: `m${i}`, name: `M${i}`, tokenHash: `h${i}` }, 2);
}

const POLICY_PARTS = { name: 'calm', when: 'pulse.mean.arousal > 0.5', action: { feedback: { mode: 'calm', minutes: 1 } }, cooldownSeconds: 60, reason: 'racing' };
const POLICY = policyJson(POLICY_PARTS);

function tickWith(s: SpaceState, at: number): Effect[] {
  return step(s, { kind: 'tick', at, participant: true } satisfies SpaceEvent).effects;
}

function crowd(s: SpaceState, arousal: number, at: number, seq: number) {
  for (let i = 0; i < 4; i++) {
    if (seq === 1) step(s, { kind: 'joined', at, conn: 10 + i, participantId: `p${i}`, tokenHash: `t${i}`, token: '', consent: true });
    step(s, { kind: 'input', at, conn: 10 + i, participantId: `p${i}`, seq, affect: { valence: 0, arousal, confidence: 1, source: 'tap', at }, exposed: false });
  }
}

describe('council rules', () => {
  it('[Q2] majority means more than half of the members; a count is a fixed number; bad rules are refused', () => {
    const maj = checkRules({ quorum: 'majority' });
    if (!maj.ok) throw new Error();
    expect([1, 2, 3, 4, 5].map((n) => votesNeeded(maj.rules, n))).toEqual([1, 2, 2, 3, 3]);
    const two = checkRules({ quorum: 2 });
    if (!two.ok) throw new Error();
    expect(votesNeeded(two.rules, 7)).toBe(2);
    for (const bad of [{ quorum: 0 }, { quorum: 'most' }, { proposalSeconds: 10 }, { prompts: [''] }, { other: 1 }]) expect(checkRules(bad).ok).toBe(false);
  });

  it('[Q2] a proposal is adopted when yes votes reach the quorum before it expires; after expiry votes are refused', () => {
    const s = machine();
    council(s, { quorum: 'majority', proposalSeconds: 60 }, 3);
    expect(act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: POLICY }, 10)).toEqual(['policy.proposed']);
    expect(act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, 11)).toEqual(['policy.vote']);
    expect(act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm1', vote: 'no' }, 12)).toEqual(['policy.vote']);
    expect(act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm2', vote: 'yes' }, 13)).toEqual(['policy.vote', 'policy.adopted']);
    expect(s.gov.policies.get('p1')).toMatchObject({ status: 'active', version: 1 });
    act(s, { kind: 'policy-propose', proposalId: 'p2', by: 'm0', policy: POLICY }, 20);
    expect(act(s, { kind: 'policy-vote', proposalId: 'p2', memberId: 'm0', vote: 'yes' }, 20 + 60_000)).toEqual(['refused:CONFLICT']);
    // Not a member: refused before anything is logged.
    expect(act(s, { kind: 'policy-propose', proposalId: 'p3', by: 'stranger', policy: POLICY }, 30)).toEqual(['refused:UNAUTHORIZED']);
    // Changing the rules is itself a proposal.
    const one = checkRules({ quorum: 1 });
    if (!one.ok) throw new Error();
    act(s, { kind: 'rules-propose', proposalId: 'r1', by: 'm1', rules: one.rules }, 40);
    act(s, { kind: 'policy-vote', proposalId: 'r1', memberId: 'm1', vote: 'yes' }, 41);
    expect(s.gov.council?.rules.quorum).toBe('majority');
    act(s, { kind: 'policy-vote', proposalId: 'r1', memberId: 'm2', vote: 'yes' }, 42);
    expect(s.gov.council?.rules.quorum).toBe(1);
  });

  it('[Q2][Q10][Q11] a proposal that expires without its quorum becomes policy.expired on the log before its state changes; a failed write changes nothing', () => {
    const s = machine();
    council(s, { quorum: 'majority', proposalSeconds: 60 }, 3);
    act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: POLICY }, 10);
    act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, 11);
    act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm1', vote: 'no' }, 12);
    // Before its end: nothing to decide. The room is empty and unwatched, yet the tick runs once it is due.
    expect(tickWith(s, 30_000).filter((f) => f.type === 'logAct')).toHaveLength(0);
    const due = tickWith(s, 10 + 60_000).filter((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>[];
    expect(due).toHaveLength(1);
    expect(due[0]?.act).toMatchObject({ type: 'policy.expired', payload: { council: 'c1', proposal: 'p1', kind: 'policy', expiresAt: 10 + 60_000, yes: 1, no: 1, seats: 3, needed: 2 } });
    // Not applied until the entry is durable; one decision in flight.
    expect(s.gov.proposals.get('p1')?.status).toBe('open');
    expect(tickWith(s, 60_500).filter((f) => f.type === 'logAct')).toHaveLength(0);
    // The log write failed: still open, and the machine decides again at the next tick.
    step(s, { kind: 'act-failed', at: 60_600, act: ((due[0] as Extract<Effect, { type: 'logAct' }>).next as Extract<SpaceEvent, { kind: 'act-logged' }>).act });
    expect(s.gov.proposals.get('p1')?.status).toBe('open');
    const again = tickWith(s, 61_000).filter((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>[];
    expect(again[0]?.act.type).toBe('policy.expired');
    const r = step(s, again[0]?.next as SpaceEvent);
    expect(r.recorded).toBe(true);
    expect(s.gov.proposals.get('p1')?.status).toBe('expired');
    // Once expired it is decided for good: no second entry, and votes are refused.
    expect(tickWith(s, 61_500).filter((f) => f.type === 'logAct')).toHaveLength(0);
    expect(act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm2', vote: 'yes' }, 62_000)).toEqual(['refused:CONFLICT']);
  });

  it('[Q2] a proposal whose quorum was reached is adopted, never expired, even when its adoption is logged after its end', () => {
    const s = machine();
    council(s, { quorum: 1, proposalSeconds: 60 }, 1);
    act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: POLICY }, 10);
    // The vote is applied just before the end; its adoption is still on its way to the log when the tick comes.
    const vote = step(s, { kind: 'act-requested', at: 60_000, act: { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, reply: 1 });
    const logVote = vote.effects.find((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>;
    const applied = step(s, logVote.next);
    expect(tickWith(s, 60_500).filter((f) => f.type === 'logAct' && f.act.type === 'policy.expired')).toHaveLength(0);
    const adopt = applied.effects.find((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>;
    expect(adopt.act.type).toBe('policy.adopted');
    step(s, adopt.next);
    expect(s.gov.proposals.get('p1')?.status).toBe('adopted');
  });

  it('[Q2] an amendment replaces the active policy with the next version', () => {
    const s = machine();
    council(s, { quorum: 1 }, 1);
    act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: POLICY }, 10);
    act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, 11);
    act(s, { kind: 'policy-propose', proposalId: 'p2', by: 'm0', policy: { ...POLICY, name: 'calmer' }, amends: 'p1' }, 12);
    act(s, { kind: 'policy-vote', proposalId: 'p2', memberId: 'm0', vote: 'yes' }, 13);
    expect(s.gov.policies.get('p1')).toMatchObject({ version: 2, status: 'active', spec: { name: 'calmer' } });
    expect(s.gov.compiled).toHaveLength(1);
  });
});

describe('policy decisions on the tick', () => {
  it('[Q6][Q7] fires once per cooldown, one decision in flight; a failed log write changes nothing and the policy may fire again', () => {
    const s = machine();
    council(s, { quorum: 1 }, 1);
    act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: POLICY }, 10);
    act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, 11);
    crowd(s, 0.9, 1000, 1);
    const first = tickWith(s, 1000).filter((f) => f.type === 'logAct');
    expect(first).toHaveLength(1);
    // Pending: no second decision while the first is being logged.
    expect(tickWith(s, 1500).filter((f) => f.type === 'logAct')).toHaveLength(0);
    const fire = first[0] as Extract<Effect, { type: 'logAct' }>;
    step(s, { kind: 'act-failed', at: 1600, act: (fire.next as Extract<SpaceEvent, { kind: 'act-logged' }>).act });
    expect(s.gov.feedback).toBeNull();
    const again = tickWith(s, 2000).filter((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>[];
    expect(again).toHaveLength(1);
    step(s, again[0]?.next as SpaceEvent);
    expect(s.gov.feedback).toMatchObject({ mode: 'calm', until: 2000 + 60_000 });
    // Within the cooldown (60 s): nothing; the feedback expires at 62 s (logged), then it may fire again.
    expect(tickWith(s, 30_000).filter((f) => f.type === 'logAct')).toHaveLength(0);
    crowd(s, 0.9, 61_000, 2);
    const expiry = tickWith(s, 62_000).filter((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>[];
    expect(expiry[0]?.act).toMatchObject({ type: 'feedback.changed', payload: { mode: 'mirror', by: 'expiry' } });
    step(s, expiry[0]?.next as SpaceEvent);
    expect(s.gov.feedback).toBeNull();
    const refire = tickWith(s, 62_500).filter((f) => f.type === 'logAct') as Extract<Effect, { type: 'logAct' }>[];
    expect(refire[0]?.act.type).toBe('policy.fired');
  });

  it('[Q9] never evaluates while the pulse is withheld (below the minimum cohort)', () => {
    const s = machine();
    council(s, { quorum: 1 }, 1);
    act(s, { kind: 'policy-propose', proposalId: 'p1', by: 'm0', policy: { ...POLICY, when: 'pulse.count >= 0.0' } }, 10);
    act(s, { kind: 'policy-vote', proposalId: 'p1', memberId: 'm0', vote: 'yes' }, 11);
    step(s, { kind: 'joined', at: 100, conn: 1, participantId: 'solo', tokenHash: 't', token: '', consent: true });
    step(s, { kind: 'input', at: 100, conn: 1, participantId: 'solo', seq: 1, affect: { valence: 0, arousal: 1, confidence: 1, source: 'tap', at: 100 }, exposed: false });
    expect(tickWith(s, 200).filter((f) => f.type === 'logAct')).toHaveLength(0);
  });

  it('[K12] the council acts a log entry holds in full come back from the entry alone, as a taker applies them; the others do not', () => {
    const g = newGovernance();
    const at = 1_700_000_000_123;
    const full: CouncilAct[] = [
      { kind: 'policy-fire', policyId: 'p1', version: 2, at, pulseSeq: 41, pulseHash: 'ab'.repeat(32), action: { feedback: { mode: 'calm', minutes: 5 } } },
      { kind: 'policy-adopt', proposalId: 'x1', at },
      { kind: 'proposal-expire', proposalId: 'x2', at },
      { kind: 'feedback-set', slot: 'feedback', at, mode: 'mirror', minutes: null, by: { machine: 'expiry' } },
      { kind: 'feedback-set', slot: 'feedback', at, mode: 'breathe', minutes: 3, by: { steward: true } },
      { kind: 'display-mode', mode: 'threads', by: { steward: true } },
      { kind: 'policy-vote', proposalId: 'x3', memberId: 'm1', vote: 'no' },
      { kind: 'policy-retire', policyId: 'p1', by: { member: 'm1' } },
      { kind: 'member-remove', memberId: 'm2', by: { steward: true } },
    ];
    for (const a of full) {
      const entry = JSON.parse(JSON.stringify(governanceActOf('s1', a, at, g))) as { type: string; payload: Record<string, unknown> };
      expect(councilActOfEntry(entry.type, entry.payload, at)).toEqual(a);
    }
    // Never handed out (an act is answered only once applied), or not a council act at all.
    const partial: CouncilAct[] = [
      { kind: 'member-add', memberId: 'm3', name: 'Ada', tokenHash: 'cd'.repeat(32) },
      { kind: 'council-create', councilId: 'c1', rules: { quorum: 1, proposalSeconds: 600, prompts: [] } as never },
    ];
    for (const a of partial) {
      const entry = governanceActOf('s1', a, at, g);
      expect(councilActOfEntry(entry.type, entry.payload, at)).toBeNull();
    }
    expect(councilActOfEntry('space.closed', {}, at)).toBeNull();
    expect(councilActOfEntry('policy.vote', { proposal: 'x', seat: 'm', vote: 'maybe' }, at)).toBeNull();
  });
});
