import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Affect } from '../affect.ts';
import { QUANTUM, quantise } from '../aggregate/aggregate.ts';
import type { Effect, SpaceEvent } from './events.ts';
import { createSpaceState, RECENT_INPUTS, type SpaceState, step } from './machine.ts';

const SPACE = { id: 'space-1', code: 'ABCD2345', name: 'model', capacity: 4, ttlMs: 1000 };
const fresh = () => createSpaceState(SPACE, { collective: false, release: { minCohort: 1 } });
const affect = (v: number, a: number, at: number): Affect => ({ valence: v, arousal: a, confidence: 1, source: 'tap', at });

/** The naive model: everything kept, nothing clever. */
interface Model {
  now: number;
  people: Map<string, { sockets: number; accepted: { seq: number; v: number; a: number }[]; point: { v: number; a: number; at: number } | null }>;
  connected: number;
}

type Op =
  | { k: 'join'; p: number }
  | { k: 'resume'; p: number }
  | { k: 'disconnect'; p: number }
  | { k: 'input'; p: number; seq: number; v: number; a: number }
  | { k: 'leave'; p: number }
  | { k: 'tick'; dt: number };

const coord = fc.integer({ min: -100, max: 100 }).map((x) => x / 100);
const person = fc.integer({ min: 0, max: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('join' as const), p: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('resume' as const), p: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('disconnect' as const), p: person }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('input' as const), p: person, seq: fc.integer({ min: -1, max: 12 }), v: coord, a: coord }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('leave' as const), p: person }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 700 }) }) },
);

const acksOf = (fx: Effect[]) => fx.flatMap((f) => (f.type === 'notify' && f.msg.t === 'ack' ? [f.msg] : []));
const errorsOf = (fx: Effect[]) => fx.flatMap((f) => (f.type === 'notify' && f.msg.t === 'error' ? [f.msg] : []));
const persistsOf = (fx: Effect[]) => fx.flatMap((f) => (f.type === 'persist' ? [f.write] : []));

describe('space machine', () => {
  it('[M1][M3][M4] agrees with a naive model on random interleavings of joins, resumes, inputs, leaves and ticks (property)', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), (ops) => {
        let s: SpaceState = fresh();
        const m: Model = { now: 1000, people: new Map(), connected: 0 };
        let n = 0;
        const run = (e: SpaceEvent) => {
          const r = step(s, e);
          s = r.state;
          if (r.recorded) n++;
          expect(s.n).toBe(n);
          return r;
        };
        run({ kind: 'started', at: m.now, pulseSeq: 0 });
        for (const o of ops) {
          const id = `p${'p' in o ? o.p : 0}`;
          const mp = m.people.get(id);
          switch (o.k) {
            case 'join': {
              if (mp) break; // one join per person; later connections resume
              const r = run({ kind: 'joined', at: m.now, conn: 1, participantId: id, tokenHash: 'h', token: 't', consent: true });
              if (m.connected >= SPACE.capacity) {
                expect(r.effects.some((f) => f.type === 'notify' && f.msg.t === 'full')).toBe(true);
                expect(r.recorded).toBe(false);
              } else {
                m.people.set(id, { sockets: 1, accepted: [], point: null });
                m.connected++;
                expect(persistsOf(r.effects)).toEqual([{ kind: 'participant', participantId: id, tokenHash: 'h', joinedAt: m.now }]);
              }
              break;
            }
            case 'resume': {
              if (!mp) break;
              const last = mp.accepted[mp.accepted.length - 1];
              const r = run({ kind: 'resumed', at: m.now, conn: 2, participantId: id, stored: { lastSeq: last?.seq ?? 0, latest: null } });
              if (mp.sockets === 0 && m.connected >= SPACE.capacity) expect(r.recorded).toBe(false);
              else {
                if (++mp.sockets === 1) m.connected++;
                const w = r.effects.find((f) => f.type === 'notify' && f.msg.t === 'welcome');
                expect(w && w.type === 'notify' && w.msg.t === 'welcome' ? w.msg.lastSeq : -1).toBe(last?.seq ?? 0);
              }
              break;
            }
            case 'disconnect': {
              if (!mp) break;
              run({ kind: 'disconnected', at: m.now, participantId: id });
              if (mp.sockets > 0 && --mp.sockets === 0) m.connected--;
              break;
            }
            case 'input': {
              const r = run({ kind: 'input', at: m.now, conn: 1, participantId: id, seq: o.seq, affect: affect(o.v, o.a, m.now), exposed: false });
              const acks = acksOf(r.effects);
              const errors = errorsOf(r.effects);
              if (!mp || mp.sockets === 0) {
                expect(errors.map((e) => e.code)).toEqual(['NOT_JOINED']);
                break;
              }
              const highest = mp.accepted[mp.accepted.length - 1]?.seq ?? 0;
              if (o.seq < 1) {
                expect(errors.map((e) => [e.code, e.seq])).toEqual([['BAD_REQUEST', o.seq]]);
              } else if (o.seq > highest) {
                // Accepted: persisted with its number, acknowledged once durable, counted at once.
                mp.accepted.push({ seq: o.seq, v: o.v, a: o.a });
                mp.point = { v: o.v, a: o.a, at: m.now };
                expect(persistsOf(r.effects)).toMatchObject([{ kind: 'input', n, seq: o.seq }]);
                expect(acks).toEqual([{ t: 'ack', seq: o.seq, affect: affect(o.v, o.a, m.now) }]);
                expect(r.effects.find((f) => f.type === 'notify')).toMatchObject({ durable: true });
              } else {
                const recent = mp.accepted.slice(-RECENT_INPUTS).find((x) => x.seq === o.seq);
                expect(persistsOf(r.effects)).toEqual([]);
                // Never acknowledged unless it was accepted; a duplicate carries its own values.
                if (recent) expect(acks.map((x) => [x.seq, x.affect.valence])).toEqual([[o.seq, recent.v]]);
                else expect(errors.map((e) => [e.code, e.seq])).toEqual([['BAD_REQUEST', o.seq]]);
              }
              break;
            }
            case 'leave': {
              if (!mp) break;
              const r = run({ kind: 'left', at: m.now, conn: 1, participantId: id });
              mp.point = null;
              expect(persistsOf(r.effects)).toEqual([{ kind: 'clear-latest', participantId: id }]);
              break;
            }
            case 'tick': {
              m.now += o.dt;
              const r = run({ kind: 'tick', at: m.now, participant: true });
              const live = [...m.people.values()].flatMap((p) => (p.point && p.point.at + SPACE.ttlMs > m.now ? [p.point] : []));
              const pub = r.effects.find((f) => f.type === 'publish');
              if (pub?.type !== 'publish') {
                // Only an empty, unwatched room that already said so rests.
                expect(live.length).toBe(0);
                expect(m.connected).toBe(0);
                break;
              }
              expect(pub.view.count).toBe(live.length);
              expect(pub.participants).toBe(m.connected > 0);
              if (live.length > 0) {
                const mean = live.reduce((t, p) => t + quantise(p.v), 0) / live.length / QUANTUM;
                expect(pub.view.mean?.valence).toBeCloseTo(mean, 12);
              }
              break;
            }
          }
          expect(s.connected).toBe(m.connected);
        }
      }),
      { seed: 20261201, numRuns: 400 },
    );
  });

  it('[M3] an input then a leave in one burst: the leave wins, in storage order too', () => {
    const s = fresh();
    step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
    const i = step(s, { kind: 'input', at: 1, conn: 1, participantId: 'a', seq: 1, affect: affect(0.5, 0.5, 1), exposed: false });
    const l = step(s, { kind: 'left', at: 1, conn: 1, participantId: 'a' });
    expect([...persistsOf(i.effects), ...persistsOf(l.effects)].map((w) => w.kind)).toEqual(['input', 'clear-latest']);
    expect(s.pulse.count).toBe(0);
    const t = step(s, { kind: 'tick', at: 2, participant: true });
    expect(t.effects.find((f) => f.type === 'publish')).toMatchObject({ view: { count: 0 } });
  });

  it('[M3] seq 2 then seq 1 in one burst: 2 is acknowledged with its own values, 1 is refused and never stored', () => {
    const s = fresh();
    step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
    const two = step(s, { kind: 'input', at: 1, conn: 1, participantId: 'a', seq: 2, affect: affect(0.2, 0.2, 1), exposed: false });
    const one = step(s, { kind: 'input', at: 1, conn: 1, participantId: 'a', seq: 1, affect: affect(0.9, 0.9, 1), exposed: false });
    expect(acksOf(two.effects)).toEqual([{ t: 'ack', seq: 2, affect: affect(0.2, 0.2, 1) }]);
    expect(acksOf(one.effects)).toEqual([]);
    expect(errorsOf(one.effects)).toMatchObject([{ code: 'BAD_REQUEST', seq: 1 }]);
    expect(persistsOf(one.effects)).toEqual([]);
    // A duplicate of 2 in flight is acknowledged with 2's values, not stored twice.
    const again = step(s, { kind: 'input', at: 2, conn: 1, participantId: 'a', seq: 2, affect: affect(-1, -1, 2), exposed: false });
    expect(acksOf(again.effects)).toEqual([{ t: 'ack', seq: 2, affect: affect(0.2, 0.2, 1) }]);
    expect(persistsOf(again.effects)).toEqual([]);
    expect(s.pulse.latestOf('a')?.valence).toBe(0.2);
  });

  it('[M3] a re-sent input among the last RECENT_INPUTS is acknowledged again with the bytes of its first ack (any source, any double); an older one is refused', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ v: fc.double({ min: -1, max: 1, noNaN: true }), a: fc.double({ min: -1, max: 1, noNaN: true }), c: fc.double({ min: 0, max: 1, noNaN: true }), source: fc.constantFrom('tap' as const, 'text' as const, 'heart' as const), at: fc.integer({ min: 1, max: 2 ** 45 }) }), { minLength: 1, maxLength: 3 * RECENT_INPUTS }),
        (inputs) => {
          const s = fresh();
          step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
          const first = inputs.map((x, i) => JSON.stringify(acksOf(step(s, { kind: 'input', at: x.at, conn: 1, participantId: 'a', seq: i + 1, affect: { valence: x.v, arousal: x.a, confidence: x.c, source: x.source, at: x.at }, exposed: false }).effects)));
          for (let i = 0; i < inputs.length; i++) {
            const again = step(s, { kind: 'input', at: 9, conn: 1, participantId: 'a', seq: i + 1, affect: affect(0, 0, 9), exposed: false });
            if (i >= inputs.length - RECENT_INPUTS) expect(JSON.stringify(acksOf(again.effects))).toBe(first[i]);
            else expect(errorsOf(again.effects)).toMatchObject([{ code: 'BAD_REQUEST', seq: i + 1 }]);
            expect(persistsOf(again.effects)).toEqual([]);
          }
        },
      ),
      { seed: 20261201 },
    );
  });

  it('[M3] a failed write takes the input back: the earlier point returns and the seq may be sent again', () => {
    const s = fresh();
    step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
    step(s, { kind: 'input', at: 1, conn: 1, participantId: 'a', seq: 1, affect: affect(0.1, 0.1, 1), exposed: false });
    step(s, { kind: 'input', at: 2, conn: 1, participantId: 'a', seq: 2, affect: affect(0.7, 0.7, 2), exposed: false });
    step(s, { kind: 'input-failed', at: 3, participantId: 'a', seq: 2 });
    expect(s.pulse.latestOf('a')?.valence).toBe(0.1);
    const resend = step(s, { kind: 'input', at: 4, conn: 1, participantId: 'a', seq: 2, affect: affect(0.7, 0.7, 4), exposed: false });
    expect(persistsOf(resend.effects)).toMatchObject([{ kind: 'input', seq: 2 }]);
  });

  it('[M5] a governance act takes effect only in act-logged: the request only asks for the log', () => {
    const s = fresh();
    const req = step(s, { kind: 'act-requested', at: 5, act: { kind: 'close' }, reply: 9 });
    expect(req.effects.map((f) => f.type)).toEqual(['logAct']);
    expect(req.recorded).toBe(false);
    expect(s.status).toBe('open');
    const logAct = req.effects[0];
    if (logAct?.type !== 'logAct') throw new Error('expected logAct');
    expect(logAct.act).toMatchObject({ type: 'space.closed', space: 'space-1', at: 5 });
    const applied = step(s, logAct.next);
    expect(s.status).toBe('closed');
    expect(applied.effects.map((f) => f.type)).toEqual(['persist', 'closed', 'notify']);
    // After the close: joins and inputs are refused; ticks stop.
    expect(errorsOf(step(s, { kind: 'joined', at: 6, conn: 1, participantId: 'b', tokenHash: 'h', token: 't', consent: true }).effects)).toMatchObject([{ code: 'SPACE_CLOSED' }]);
    expect(step(s, { kind: 'tick', at: 7, participant: true }).effects).toEqual([]);
  });

  it('[M5][R8] a DP release is an act: privacy.release is logged first, and only act-logged answers the desk', () => {
    const s = fresh();
    const entry = { n: 1, what: 'series', rho: 0.05, spentRho: 0.05, budgetRho: 0.5 };
    const req = step(s, { kind: 'act-requested', at: 5, act: { kind: 'privacy-release', entry }, reply: 9 });
    expect(req.effects.map((f) => f.type)).toEqual(['logAct']);
    const logAct = req.effects[0];
    if (logAct?.type !== 'logAct') throw new Error('expected logAct');
    expect(logAct.act).toEqual({ type: 'privacy.release', space: 'space-1', at: 5, payload: entry });
    const applied = step(s, { ...logAct.next, ...(logAct.next.kind === 'act-logged' ? { entry: 42 } : {}) });
    expect(applied.effects).toEqual([{ type: 'answer', ref: 9, result: { ok: true, value: 42 }, durable: false }]);
    // It changes nothing the pulse depends on, so it is not recorded for replay.
    expect(req.recorded || applied.recorded).toBe(false);
  });

  it('[P4][R1] below the cohort the view carries the count only, with no collective state', () => {
    const s = createSpaceState(SPACE, { release: { minCohort: 3 } });
    step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
    step(s, { kind: 'input', at: 1, conn: 1, participantId: 'a', seq: 1, affect: affect(0.5, 0.5, 1), exposed: false });
    const t = step(s, { kind: 'tick', at: 2, participant: true });
    expect(t.effects.find((f) => f.type === 'publish')).toMatchObject({ view: { count: 1, suppressed: true, mean: null, hist: null, quadrants: null, collective: null } });
  });

  it('[W5a][R5] heart readings reach the room\'s heart figures, released under the cohort; rooms without straps carry none', () => {
    const s = createSpaceState(SPACE, { collective: false, release: { minCohort: 3 } });
    step(s, { kind: 'joined', at: 0, conn: 1, participantId: 'a', tokenHash: 'h', token: 't', consent: true });
    expect(step(s, { kind: 'tick', at: 1, participant: true }).effects.find((f) => f.type === 'publish')).not.toHaveProperty('view.heart');
    for (const id of ['a', 'b', 'c']) {
      if (id !== 'a') step(s, { kind: 'joined', at: 2, conn: 1, participantId: id, tokenHash: 'h', token: 't', consent: true });
    }
    const heartInput = (id: string, seq: number, at: number) => step(s, { kind: 'input', at, conn: 1, participantId: id, seq, affect: { ...affect(0.2, 0.3, at), source: 'heart' }, exposed: false, heartBpm: 70 + seq });
    heartInput('a', 1, 10);
    heartInput('b', 1, 10);
    const two = step(s, { kind: 'tick', at: 20, participant: true }).effects.find((f) => f.type === 'publish');
    expect(two).toMatchObject({ view: { heart: { sharing: null, synchrony: null } } });
    // The synchrony is measured once per 2-s reading slot.
    const persisted = heartInput('c', 1, 2100).effects.find((f) => f.type === 'persist');
    expect(persisted).toMatchObject({ write: { kind: 'input', heartBpm: 71 } });
    const three = step(s, { kind: 'tick', at: 2200, participant: true }).effects.find((f) => f.type === 'publish');
    expect(three).toMatchObject({ view: { heart: { sharing: 3 } } });
    step(s, { kind: 'left', at: 2300, conn: 1, participantId: 'c' });
    expect(step(s, { kind: 'tick', at: 4200, participant: true }).effects.find((f) => f.type === 'publish')).toMatchObject({ view: { heart: { sharing: null } } });
  });
});
