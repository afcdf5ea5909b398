/**
 * Councils and policies on the space host (SPEC §Q) with a manual scheduler: the lifecycle
 * proposed → votes → adopted → active → retired, every step on the log before it takes effect,
 * a failing log meaning no effect, a policy firing over the released pulse, restart, and replay
 * re-deriving every decision bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { LocalBus } from '../src/bus/local/localBus.ts';
import type { GovernanceAct, GovernanceSink } from '../src/core/governance.ts';
import { replay } from '../src/core/space/record.ts';
import { encodeEntry, type JsonObject } from '../src/log/entry.ts';
import type { PulseView } from '../src/core/space/events.ts';
import { loadSession } from '../src/space/rehearse.ts';
import { ManualScheduler } from '../src/space/scheduler.ts';
import { type ConnSink, hashPulse, SpaceHost, subjects } from '../src/space/spaceHost.ts';
import { MemoryStorage } from '../src/storage/memory/memoryStorage.ts';
import type { Storage } from '../src/storage/port.ts';
import { policyJson } from '../src/core/policy/policyJson.ts';

/** A log that numbers entries like the transparency log, checks them with its encoder (privacy lint included), and can be made to fail. */
class IndexedLog implements GovernanceSink {
  fail = false;
  readonly acts: GovernanceAct[] = [];
  async record(act: GovernanceAct): Promise<number> {
    if (this.fail) throw new Error('log store unavailable');
    encodeEntry({ v: 1, type: act.type, space: act.space, time: Math.floor(act.at), payload: act.payload as JsonObject });
    this.acts.push(act);
    return this.acts.length - 1;
  }
  types(): string[] {
    return this.acts.map((a) => a.type);
  }
}

const quiet: ConnSink = { send: () => {}, close: () => {}, welcomed: () => {} };

async function hostWith(storage: Storage, log: GovernanceSink, scheduler = new ManualScheduler()) {
  const bus = new LocalBus();
  const host = new SpaceHost({ storage, bus, governance: log, scheduler, machine: { release: { minCohort: 3 } }, report: () => {} });
  await host.start();
  return { host, scheduler, bus };
}

/** Lets promise chains (log writes, storage commits) settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

const CALM_PARTS = { name: 'calm when energised', when: 'pulse.mean.arousal > 0.5 && pulse.count >= 3.0', action: { feedback: { mode: 'calm', minutes: 2, breathsPerMinute: 6 } }, cooldownSeconds: 600, reason: 'the room is racing; slow down together' };
const CALM = policyJson(CALM_PARTS);

async function councilOfTwo(host: SpaceHost) {
  const made = await host.createSpace({ name: 'council room' });
  if (!made.ok) throw new Error(made.message);
  const { code } = made.value.space;
  const steward = made.value.stewardToken;
  const c = await host.createCouncil(code, steward, { quorum: 'majority', proposalSeconds: 600 });
  if (!c.ok) throw new Error(c.message);
  const a = await host.addMember(code, steward, 'Ada');
  const b = await host.addMember(code, steward, 'Bo');
  if (!a.ok || !b.ok) throw new Error('members');
  return { made, code, steward, a: a.value, b: b.value };
}

async function crowd(host: SpaceHost, code: string, n: number, arousal: number, seq: number, refs: number[] = []) {
  for (let i = 0; i < n; i++) {
    let ref = refs[i];
    if (ref === undefined) {
      ref = host.attach(quiet);
      refs.push(ref);
      await host.join(ref, code, 'participant', true);
    }
    host.input(ref, { t: 'input', seq, valence: 0.1 * i, arousal, confidence: 1, source: 'tap' }, false);
  }
  await settle();
  return refs;
}

describe('councils and policies', () => {
  it('[Q1][Q2][Q10] a council of two adopts a policy by majority; every step is logged first, in order', async () => {
    const log = new IndexedLog();
    const { host } = await hostWith(new MemoryStorage(), log);
    const { made, code, a, b } = await councilOfTwo(host);
    expect(a.memberToken).not.toBe(b.memberToken);
    const p = await host.propose(code, a.memberToken, { policy: CALM });
    if (!p.ok) throw new Error(p.message);
    const v1 = await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    expect(v1).toMatchObject({ ok: true, value: { status: 'open' } });
    // A second vote by the same member is refused, and nothing is logged for it.
    const again = await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    expect(again).toMatchObject({ ok: false, code: 'CONFLICT' });
    const v2 = await host.vote(code, b.memberToken, p.value.proposal, 'yes');
    expect(v2).toMatchObject({ ok: true, value: { status: 'adopted' } });
    expect(log.types()).toEqual(['space.created', 'council.created', 'council.member.added', 'council.member.added', 'policy.proposed', 'policy.vote', 'policy.vote', 'policy.adopted']);
    // The log never holds a token or its hash.
    expect(JSON.stringify(log.acts)).not.toContain(a.memberToken);
    const view = host.councilView(made.value.space.id);
    if (!view.ok) throw new Error(view.message);
    expect(view.value.policies).toMatchObject([{ id: p.value.proposal, version: 1, status: 'active', name: 'calm when energised' }]);
    // A wrong token is refused.
    expect(await host.propose(code, 'nope', { policy: CALM })).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
  });

  it('[Q3] a bad policy is refused with a coded error naming the problem and where', async () => {
    const { host } = await hostWith(new MemoryStorage(), new IndexedLog());
    const { code, a } = await councilOfTwo(host);
    const r = await host.propose(code, a.memberToken, { policy: { ...CALM, when: 'pulse.collective.dissonanse > 0.5' } });
    expect(r).toMatchObject({ ok: false, code: 'POLICY_UNKNOWN_FIELD' });
    const bounds = await host.propose(code, a.memberToken, { policy: policyJson({ ...CALM_PARTS, action: { feedback: { mode: 'calm', minutes: 90 } } }) });
    expect(bounds).toMatchObject({ ok: false, code: 'POLICY_BOUNDS' });
  });

  it('[Q6][Q7][Q8][Q10] an adopted policy fires on the released pulse: logged (policy id, version, pulse hash, action, bounds) before screens show calm', async () => {
    const log = new IndexedLog();
    const { host, scheduler, bus } = await hostWith(new MemoryStorage(), log);
    const { made, code, a, b } = await councilOfTwo(host);
    const p = await host.propose(code, a.memberToken, { policy: CALM });
    if (!p.ok) throw new Error(p.message);
    await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    await host.vote(code, b.memberToken, p.value.proposal, 'yes');
    const seen: PulseView[] = [];
    bus.subscribe(subjects.participantPulse(made.value.space.id), (bytes) => seen.push(JSON.parse(new TextDecoder().decode(bytes)) as PulseView));
    const refs = await crowd(host, code, 4, 0.1, 1);
    scheduler.advance(2000);
    await settle();
    expect(log.types()).not.toContain('policy.fired');
    expect(seen.at(-1)?.feedback).toMatchObject({ mode: 'mirror' });
    // A surge: everyone energised.
    log.fail = true;
    await crowd(host, code, 4, 0.9, 2, refs);
    scheduler.advance(1000);
    await settle();
    // The log failed: nothing changed on screens.
    expect(log.types()).not.toContain('policy.fired');
    expect(seen.at(-1)?.feedback).toMatchObject({ mode: 'mirror' });
    log.fail = false;
    scheduler.advance(1000);
    await settle();
    scheduler.advance(500);
    const fired = log.acts.find((x) => x.type === 'policy.fired');
    expect(fired?.payload).toMatchObject({ policy: p.value.proposal, version: 1, action: { feedback: { mode: 'calm', minutes: 2, breathsPerMinute: 6 } }, bounds: { minutes: [1, 30] } });
    expect(String(fired?.payload.pulseHash)).toMatch(/^[0-9a-f]{64}$/);
    const last = seen.at(-1);
    expect(last?.feedback).toMatchObject({ mode: 'calm', policy: { id: p.value.proposal, version: 1, name: 'calm when energised' }, reason: 'the room is racing; slow down together', entry: log.acts.indexOf(fired as GovernanceAct), breathsPerMinute: 6 });
    // The hash names the pulse the policy saw: one that was published.
    expect(seen.some((v) => hashPulse(JSON.stringify(v)) === fired?.payload.pulseHash)).toBe(true);
    // Cooldown: no second firing while it lasts; after 2 minutes the feedback expires back to mirror (logged).
    scheduler.advance(130_000);
    await settle();
    scheduler.advance(500);
    expect(log.types().filter((t) => t === 'policy.fired')).toHaveLength(1);
    expect(log.acts.at(-1)).toMatchObject({ type: 'feedback.changed', payload: { slot: 'feedback', mode: 'mirror', by: 'expiry' } });
    expect(seen.at(-1)?.feedback).toMatchObject({ mode: 'mirror' });
    // Retiring is logged first too.
    expect(await host.retirePolicy(code, a.memberToken, p.value.proposal)).toMatchObject({ ok: true });
    expect(log.acts.at(-1)?.type).toBe('policy.retired');
  });

  it('[Q11][M8] replay re-derives every policy.fired and feedback.changed bit for bit; the council survives a restart', async () => {
    const log = new IndexedLog();
    const storage = new MemoryStorage();
    const { host, scheduler } = await hostWith(storage, log);
    const { made, code, a, b } = await councilOfTwo(host);
    const p = await host.propose(code, a.memberToken, { policy: policyJson({ ...CALM_PARTS, cooldownSeconds: 30, action: { feedback: { mode: 'calm', minutes: 1 } } }) });
    if (!p.ok) throw new Error(p.message);
    await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    await host.vote(code, b.memberToken, p.value.proposal, 'yes');
    const refs = await crowd(host, code, 4, 0.9, 1);
    for (let i = 0; i < 400; i++) {
      scheduler.advance(500);
      if (i % 20 === 0) await crowd(host, code, 4, i % 40 === 0 ? 0.9 : 0.1, 2 + i, refs);
      await settle();
    }
    await host.drain();
    const fires = log.types().filter((t) => t === 'policy.fired').length;
    expect(fires).toBeGreaterThan(1);
    const session = await loadSession(storage, code);
    if (!session) throw new Error('no session');
    const report = replay({ id: made.value.space.id, code, name: 'council room', capacity: made.value.space.capacity, ttlMs: made.value.space.ttlMs }, host.options, session.events, session.inputs, hashPulse);
    expect(report.differ).toBe(0);
    expect(report.decisions.recorded).toBeGreaterThanOrEqual(fires + 1);
    expect(report.decisions.differences).toEqual([]);
    expect(report.decisions.identical).toBe(report.decisions.recorded);
    // Restart on the same storage: the council, its members and the policy are back.
    await host.stop();
    const again = await hostWith(storage, log, scheduler);
    const view = again.host.councilView(made.value.space.id);
    if (!view.ok) throw new Error(view.message);
    expect(view.value.members).toHaveLength(2);
    expect(view.value.policies).toMatchObject([{ id: p.value.proposal, status: 'active' }]);
    expect((await again.host.whoIs(code, b.memberToken)).ok).toBe(true);
    await again.host.stop();
  });

  it('[Q2][Q10][Q11] a proposal that expires before its quorum is logged (policy.expired) before it shows as expired, and replay re-derives it', async () => {
    const log = new IndexedLog();
    const storage = new MemoryStorage();
    const { host, scheduler } = await hostWith(storage, log);
    const { made, code, a } = await councilOfTwo(host);
    const p = await host.propose(code, a.memberToken, { policy: CALM });
    if (!p.ok) throw new Error(p.message);
    await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    const statusOf = () => ((host.councilView(made.value.space.id) as { ok: true; value: { proposals: { id: string; status: string }[] } }).value.proposals.find((x) => x.id === p.value.proposal)?.status);
    // The room is empty and nobody watches: the machine still ticks to log the expiry on time.
    log.fail = true;
    scheduler.advance(600_000);
    await settle();
    expect(statusOf()).toBe('open');
    expect(log.types()).not.toContain('policy.expired');
    log.fail = false;
    scheduler.advance(500);
    await settle();
    const entry = log.acts.findIndex((x) => x.type === 'policy.expired');
    expect(log.acts[entry]?.payload).toMatchObject({ proposal: p.value.proposal, kind: 'policy', yes: 1, no: 0, seats: 2, needed: 2 });
    expect(statusOf()).toBe('expired');
    expect(log.types().filter((t) => t === 'policy.expired')).toHaveLength(1);
    await host.drain();
    const session = await loadSession(storage, code);
    if (!session) throw new Error('no session');
    const report = replay({ id: made.value.space.id, code, name: 'council room', capacity: made.value.space.capacity, ttlMs: made.value.space.ttlMs }, host.options, session.events, session.inputs, hashPulse);
    // The failed attempt and the logged one are both recorded decisions, re-derived in order.
    expect(report.decisions.recorded).toBe(2);
    expect(report.decisions.differences).toEqual([]);
    expect(report.decisions.identical).toBe(2);
    await host.stop();
  });

  it('[Q5][Q12][Q13] notifications: a steward-addressed one is the steward’s alone; numbered; kept across a restart', async () => {
    const log = new IndexedLog();
    const storage = new MemoryStorage();
    const { host, scheduler } = await hostWith(storage, log);
    const { made, code, steward, a, b } = await councilOfTwo(host);
    const tell = policyJson({ name: 'tell the steward', when: 'pulse.count >= 3.0', action: { notify: { audience: 'steward' } }, cooldownSeconds: 60, reason: 'the room filled up' });
    const p = await host.propose(code, a.memberToken, { policy: tell });
    if (!p.ok) throw new Error(p.message);
    await host.vote(code, a.memberToken, p.value.proposal, 'yes');
    await host.vote(code, b.memberToken, p.value.proposal, 'yes');
    await crowd(host, code, 4, 0.2, 1);
    for (let i = 0; i < 4; i++) {
      scheduler.advance(500);
      await settle();
    }
    const fired = log.acts.findIndex((x) => x.type === 'policy.fired');
    expect(fired).toBeGreaterThan(0);
    const forSteward = await host.notifications(code, steward);
    expect(forSteward).toMatchObject({ ok: true, value: { audience: 'steward', latest: 1, notifications: [{ n: 1, audience: 'steward', message: 'the room filled up', policy: { id: p.value.proposal, name: 'tell the steward' }, entry: fired }] } });
    // Addressed to the steward: a member sees none of it, only that one was sent (public view).
    expect(await host.notifications(code, a.memberToken)).toMatchObject({ ok: true, value: { audience: 'council', latest: 1, notifications: [] } });
    expect(host.councilView(made.value.space.id)).toMatchObject({ ok: true, value: { notifications: 1 } });
    expect((host.councilView(made.value.space.id) as { ok: true; value: Record<string, unknown> }).value).not.toHaveProperty('notices');
    expect(await host.notifications(code, 'nope')).toMatchObject({ ok: false, code: 'UNAUTHORIZED' });
    await host.drain();
    await host.stop();
    const again = await hostWith(storage, log, scheduler);
    expect(await again.host.notifications(code, steward, 0)).toMatchObject({ ok: true, value: { latest: 1, notifications: [{ n: 1 }] } });
    await again.host.stop();
  });

  it('[Q8] opting out is counted, and the count is released only at or above the minimum cohort', async () => {
    const { host } = await hostWith(new MemoryStorage(), new IndexedLog());
    const { made, code } = await councilOfTwo(host);
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const frames: string[] = [];
      const ref = host.attach({ send: (f) => frames.push(typeof f === 'string' ? f : new TextDecoder().decode(f)), close: () => {}, welcomed: () => {} });
      await host.join(ref, code, 'participant', true);
      await settle();
      const w = frames.map((f) => JSON.parse(f) as { t: string; token?: string }).find((m) => m.t === 'welcome');
      tokens.push(String(w?.token));
    }
    expect(await host.optOut(tokens[0], true)).toMatchObject({ ok: true });
    expect(host.councilView(made.value.space.id)).toMatchObject({ ok: true, value: { optOuts: null } });
    await host.optOut(tokens[1], true);
    await host.optOut(tokens[2], true);
    expect(host.councilView(made.value.space.id)).toMatchObject({ ok: true, value: { optOuts: 3 } });
    await host.optOut(tokens[2], false);
    expect(host.councilView(made.value.space.id)).toMatchObject({ ok: true, value: { optOuts: null } });
  });

  it('[Q9][issue 15] the display mode is an act on the log, in the released view, and survives a restart', async () => {
    const log = new IndexedLog();
    const storage = new MemoryStorage();
    const { host, scheduler } = await hostWith(storage, log);
    const made = await host.createSpace({ name: 'modes' });
    if (!made.ok) throw new Error(made.message);
    log.fail = true;
    expect(await host.setDisplayMode(made.value.space.code, made.value.stewardToken, 'threads')).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
    expect(host.displayModeOf(made.value.space.id).mode).toBe('field');
    log.fail = false;
    expect(await host.setDisplayMode(made.value.space.code, made.value.stewardToken, 'threads')).toMatchObject({ ok: true });
    expect(log.acts.at(-1)).toMatchObject({ type: 'display.changed', payload: { mode: 'threads', by: 'steward' } });
    scheduler.advance(600);
    await host.drain();
    const view = JSON.parse(new TextDecoder().decode(host.latestPulse(made.value.space.id) ?? new Uint8Array())) as PulseView;
    expect(view.display).toMatchObject({ mode: 'threads', by: 'steward', entry: log.acts.length - 1 });
    await host.stop();
    const again = await hostWith(storage, log, scheduler);
    expect(again.host.displayModeOf(made.value.space.id)).toMatchObject({ mode: 'threads', by: 'steward' });
    await again.host.stop();
  });
});
