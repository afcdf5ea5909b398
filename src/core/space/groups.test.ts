/**
 * Groups in the space machine (R6, M1, M6): a participant's chosen group travels in `joined` and
 * `group-changed`, each group's aggregate follows its members' points (inputs, leaves, expiry,
 * changes of group), and a recorded session replays to the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quantise, QUANTUM } from '../aggregate/aggregate.ts';
import type { Effect, PulseView, SpaceEvent } from './events.ts';
import { createSpaceState, type SpaceState, step } from './machine.ts';
import { encodeView, eventOf, type RecordedEvent, type RecordedInput, recordOf, replay } from './record.ts';

const GROUPS = ['east', 'west', 'north'];
const SPACE = { id: 'space-g', code: 'GRPS2345', name: 'groups', capacity: 50, ttlMs: 1000, groups: GROUPS };
const K = 2;
const fresh = () => createSpaceState(SPACE, { collective: false, heart: false, release: { minCohort: K } });

type Op =
  | { k: 'join'; p: number; g: number }
  | { k: 'regroup'; p: number; g: number }
  | { k: 'input'; p: number; v: number; a: number }
  | { k: 'leave'; p: number }
  | { k: 'tick'; dt: number };
const coord = fc.integer({ min: -100, max: 100 }).map((x) => x / 100);
const person = fc.integer({ min: 0, max: 9 });
const group = fc.integer({ min: -1, max: 3 }); // 3 = a name the space does not have
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('join' as const), p: person, g: group }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('regroup' as const), p: person, g: group }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('input' as const), p: person, v: coord, a: coord }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('leave' as const), p: person }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 250 }) }) },
);
const nameOf = (g: number) => (g < 0 ? null : g < GROUPS.length ? (GROUPS[g] as string) : 'south');
const views = (fx: Effect[]) => fx.flatMap((f) => (f.type === 'publish' ? [f.view] : []));

describe('groups in the space machine', () => {
  it('[R6][M1] each group’s released count and mean follow its members’ live points; the session replays byte for byte (property)', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 120, size: 'max' }), (ops) => {
        let s: SpaceState = fresh();
        let now = 1000;
        const joined = new Map<string, { group: number; seq: number; gone: boolean }>();
        const points = new Map<string, { v: number; a: number; at: number }>();
        const events: RecordedEvent[] = [];
        const inputs: RecordedInput[] = [];
        const published: string[] = [];
        const run = (e: SpaceEvent) => {
          const r = step(s, e);
          s = r.state;
          const bytes = views(r.effects).map(encodeView);
          published.push(...bytes);
          if (r.recorded) {
            if (e.kind === 'input') inputs.push({ n: s.n, participantId: e.participantId, seq: e.seq, affect: e.affect, exposed: e.exposed });
            else events.push(recordOf(e, s.n, bytes[0] ? { hash: bytes[0] } : {}) as RecordedEvent);
          }
          return r;
        };
        run({ kind: 'started', at: now, pulseSeq: 0 });
        for (const o of ops) {
          const id = `p${'p' in o ? o.p : 0}`;
          const me = joined.get(id);
          switch (o.k) {
            case 'join': {
              if (me) break;
              const r = run({ kind: 'joined', at: now, conn: o.p, participantId: id, tokenHash: `h${id}`, token: 't', consent: true, group: nameOf(o.g) });
              if (o.g < GROUPS.length) joined.set(id, { group: o.g, seq: 0, gone: false });
              else expect(r.recorded).toBe(false);
              break;
            }
            case 'regroup': {
              if (!me || me.gone) break;
              const r = run({ kind: 'group-changed', at: now, conn: o.p, participantId: id, group: nameOf(o.g) });
              if (o.g < GROUPS.length) me.group = o.g;
              else expect(r.recorded).toBe(false);
              break;
            }
            case 'input': {
              if (!me || me.gone) break;
              me.seq++;
              run({ kind: 'input', at: now, conn: o.p, participantId: id, seq: me.seq, affect: { valence: o.v, arousal: o.a, confidence: 1, source: 'tap', at: now }, exposed: false });
              points.set(id, { v: o.v, a: o.a, at: now });
              break;
            }
            case 'leave': {
              if (!me || me.gone) break;
              run({ kind: 'left', at: now, conn: o.p, participantId: id });
              points.delete(id);
              me.gone = true;
              break;
            }
            case 'tick': {
              now += o.dt;
              const r = run({ kind: 'tick', at: now, participant: true });
              const view = views(r.effects)[0] as PulseView | undefined;
              if (!view) break;
              const live = [...points.entries()].filter(([, p]) => p.at + SPACE.ttlMs > now);
              for (const [g, name] of GROUPS.entries()) {
                const members = live.filter(([pid]) => joined.get(pid)?.group === g);
                const rg = view.groups?.[name];
                expect(rg).toBeDefined();
                if (rg?.suppressed) continue;
                expect(rg?.count).toBe(members.length);
                if (members.length > 0) checked++;
                if (members.length > 0) {
                  const mean = members.reduce((x, [, p]) => x + quantise(p.v), 0) / members.length / QUANTUM;
                  expect(rg?.mean?.valence).toBeCloseTo(mean, 12);
                }
              }
              const shown = GROUPS.filter((n) => (view.groups?.[n]?.count ?? 0) > 0);
              if (shown.length >= 2) expect(view.bridging?.between).toEqual(shown);
              else expect(view.bridging).toBeNull();
              break;
            }
          }
        }
        // Replay: the records (through their stored form) fold to the same published bytes.
        const again: string[] = [];
        let r2 = fresh();
        const evs = [...events];
        const ins = [...inputs];
        while (evs.length || ins.length) {
          const takeInput = evs.length === 0 || (ins.length > 0 && (ins[0] as RecordedInput).n < (evs[0] as RecordedEvent).n);
          const e: SpaceEvent = takeInput
            ? (() => {
                const i = ins.shift() as RecordedInput;
                return { kind: 'input', at: i.affect.at, conn: 0, participantId: i.participantId, seq: i.seq, affect: i.affect, exposed: i.exposed } as const;
              })()
            : eventOf(JSON.parse(JSON.stringify(evs.shift())) as RecordedEvent);
          const out = step(r2, e);
          r2 = out.state;
          for (const v of views(out.effects)) again.push(encodeView(v));
        }
        expect(again).toEqual(published);
        const report = replay(SPACE, { collective: false, heart: false, release: { minCohort: K } }, events, inputs, (b) => b);
        expect(report.differ).toBe(0);
        expect(report.identical).toBe(published.length);
      }),
      { seed: 41, numRuns: 200 },
    );
    expect(checked).toBeGreaterThan(500);
  });

  it('[R6] a space without groups publishes no groups field (old spaces keep their bytes)', () => {
    const s = createSpaceState({ ...SPACE, groups: undefined as unknown as string[] }, { collective: false, heart: false, release: { minCohort: 1 } });
    step(s, { kind: 'started', at: 0, pulseSeq: 0 });
    const r = step(s, { kind: 'tick', at: 1, participant: true });
    const v = views(r.effects)[0] as PulseView;
    expect('groups' in v).toBe(false);
    expect('bridging' in v).toBe(false);
  });

  it('[M5] a link is an act: logged first, applied once logged, undone by an unlink', () => {
    const s = fresh();
    step(s, { kind: 'started', at: 0, pulseSeq: 0 });
    const act = { kind: 'link', other: 'space-2', otherCode: 'OTHR2345', agree: true } as const;
    const asked = step(s, { kind: 'act-requested', at: 5, act, reply: 9 });
    expect(asked.recorded).toBe(false);
    expect(asked.effects[0]).toMatchObject({ type: 'logAct', act: { type: 'space.linked', space: 'space-g', payload: { with: 'space-2' } } });
    expect(s.links.size).toBe(0);
    step(s, { kind: 'act-logged', at: 6, act, reply: 9 });
    expect([...s.links]).toEqual([['space-2', 'OTHR2345']]);
    step(s, { kind: 'act-logged', at: 7, act: { ...act, agree: false }, reply: 9 });
    expect(s.links.size).toBe(0);
  });
});
