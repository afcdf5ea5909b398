import { describe, expect, it } from 'vitest';
import { checkPolicy, compileWhen, MAX_EXPRESSION_BYTES, runTyped } from './checkPolicy.ts';
import { checkAction } from './actions.ts';
import { HISTORY_LENGTH, PolicyHistory, policyInputOf } from './policyInput.ts';
import type { PulseView } from '../space/events.ts';

const calm = { feedback: { mode: 'calm', minutes: 5 } };
const policy = (when: string, then: unknown = calm) => ({ name: 'p', when, then });
const code = (r: ReturnType<typeof checkPolicy>) => (r.ok ? 'ok' : r.problem.code);

const view = (over: Partial<PulseView> = {}): PulseView => ({
  t: 'pulse',
  seq: 7,
  at: 1000,
  count: 12,
  suppressed: false,
  minCohort: 3,
  mean: { valence: 0.2, arousal: 0.7 },
  smoothed: { valence: 0.1, arousal: 0.6 },
  spread: { valence: 0.3, arousal: 0.2 },
  quadrants: [0.5, 0.2, 0.1, 0.2],
  bins: 4,
  hist: null,
  space: 'ABCD',
  ...over,
});

describe('policy expressions (CEL over the released pulse)', () => {
  it('[Q3] type-checks against the schema: unknown fields and variables, type errors, non-bool results, each with a code and a position', () => {
    expect(code(checkPolicy(policy('pulse.collective.dissonance > 0.5'), [], 0))).toBe('ok');
    const unknown = checkPolicy(policy('pulse.mean.valence > 0.0 && pulse.moood > 1.0'), [], 0);
    expect(unknown).toMatchObject({ ok: false, problem: { code: 'POLICY_UNKNOWN_FIELD', position: { start: expect.any(Number) } } });
    if (!unknown.ok) expect(unknown.problem.position?.start).toBeGreaterThan(20);
    expect(code(checkPolicy(policy('people.count > 1.0'), [], 0))).toBe('POLICY_UNKNOWN_FIELD');
    expect(code(checkPolicy(policy('pulse.count > "ten"'), [], 0))).toBe('POLICY_TYPE');
    expect(code(checkPolicy(policy('pulse.count'), [], 0))).toBe('POLICY_NOT_BOOL');
    expect(code(checkPolicy(policy('pulse.count >'), [], 0))).toBe('POLICY_SYNTAX');
  });

  it('[Q3] refuses regular expressions anywhere, over-long and over-complex expressions', () => {
    expect(code(checkPolicy(policy('"calm".matches("c.*") || pulse.count > 1.0'), [], 0))).toBe('POLICY_REGEX');
    expect(code(checkPolicy(policy('pulse.count > 1.0 && matches("a", "b")'), [], 0))).toBe('POLICY_REGEX');
    expect(code(checkPolicy(policy(`pulse.count > 1.0${' '.repeat(MAX_EXPRESSION_BYTES)}`), [], 0))).toBe('POLICY_TOO_LARGE');
    expect(code(checkPolicy(policy(Array.from({ length: 80 }, () => 'pulse.count > 1.0').join(' || ')), [], 0))).toBe('POLICY_TOO_COMPLEX');
    expect(code(checkPolicy(policy(`${'('.repeat(40)}pulse.count > 1.0${')'.repeat(40)}`), [], 0))).toBe('POLICY_TOO_COMPLEX');
  });

  it('[Q3][issue 17] group measures and the bridging score are typed by the space’s declared groups', () => {
    expect(code(checkPolicy(policy('groups["east"].mean.valence < 0.0 && bridging.score < 0.4'), ['east', 'west'], 0))).toBe('ok');
    expect(code(checkPolicy(policy('groups["north"].mean.valence < 0.0'), ['east', 'west'], 0))).toBe('POLICY_UNKNOWN_FIELD');
    expect(code(checkPolicy(policy('groups["east"].shown'), [], 0))).toBe('POLICY_UNKNOWN_FIELD');
    const c = compileWhen('groups["east"].shown && groups["east"].mean.valence < groups["west"].mean.valence', ['east', 'west']);
    if (!c.ok) throw new Error(c.problem.message);
    const g = (valence: number) => ({ suppressed: false, count: 5, mean: { valence, arousal: 0 }, spread: { valence: 0.1, arousal: 0.1 }, quadrants: [0.25, 0.25, 0.25, 0.25] as const, hist: null });
    const v = view({ groups: { east: g(-0.5), west: g(0.5) } });
    expect(c.run(policyInputOf(v, new PolicyHistory(), ['east', 'west']))).toBe(true);
    // A withheld group reads as not shown, with zeros: never an error, never an individual.
    const hidden = view({ groups: { east: { suppressed: true, count: null, mean: null, spread: null, quadrants: null, hist: null }, west: g(0.5) } });
    expect(c.run(policyInputOf(hidden, new PolicyHistory(), ['east', 'west']))).toBe(false);
  });

  it('[Q4] history is a fixed window, newest first, padded with the oldest value', () => {
    const c = compileWhen('history.arousal[0] > history.arousal[5] && size(history.dissonance) == 30', []);
    if (!c.ok) throw new Error(c.problem.message);
    const h = new PolicyHistory();
    for (let i = 0; i < 40; i++) h.push({ count: 10, valence: 0, arousal: i / 40, dissonance: 0 });
    expect(h.lists().arousal).toHaveLength(HISTORY_LENGTH);
    expect(c.run(policyInputOf(view(), h, []))).toBe(true);
    const short = new PolicyHistory();
    short.push({ count: 1, valence: 0, arousal: 0.5, dissonance: 0 });
    expect(short.lists().arousal).toEqual(new Array(HISTORY_LENGTH).fill(0.5));
  });
});

describe('the action vocabulary and its bounds (outside CEL)', () => {
  it('[Q5] enforces every bound and refuses anything outside the vocabulary', () => {
    expect(checkAction({ feedback: { mode: 'calm', minutes: 30, breathsPerMinute: 4 } }, 0).ok).toBe(true);
    for (const bad of [
      { feedback: { mode: 'calm', minutes: 0 } },
      { feedback: { mode: 'calm', minutes: 31 } },
      { feedback: { mode: 'calm', minutes: 5, breathsPerMinute: 9 } },
      { feedback: { mode: 'diversity', minutes: 5, breathsPerMinute: 6 } },
      { feedback: { mode: 'rage', minutes: 5 } },
      { feedback: { mode: 'reflect', minutes: 5, prompt: 3 } },
      { display: { smoothingSeconds: 31, minutes: 5 } },
      { display: { minutes: 5 } },
      { display: { mode: 'strobe', minutes: 5 } },
      { pause: { minutes: 11 } },
      { notify: { audience: 'everyone' } },
      { notify: { audience: 'council', message: 'x'.repeat(201) } },
      { feedback: { mode: 'calm', minutes: 5 }, pause: { minutes: 1 } },
      { shout: {} },
      { feedback: { mode: 'calm', minutes: 5, volume: 11 } },
    ]) expect(checkAction(bad, 2), JSON.stringify(bad)).toMatchObject({ ok: false });
    expect(checkAction({ feedback: { mode: 'reflect', minutes: 5, prompt: 1 } }, 2).ok).toBe(true);
    expect(code(checkPolicy({ ...policy('pulse.count > 1.0'), cooldownSeconds: -1 }, [], 0))).toBe('POLICY_BOUNDS');
    expect(code(checkPolicy({ ...policy('pulse.count > 1.0'), extra: 1 }, [], 0))).toBe('POLICY_INVALID');
  });
});

describe('the fast evaluation path', () => {
  it('[Q6] gives the typed environment’s result on random released views', async () => {
    const fc = (await import('fast-check')).default;
    const exprs = [
      'pulse.collective.dissonance > 0.5 && history.dissonance[5] > 0.4',
      'pulse.mean.arousal - pulse.smoothed.arousal > 0.1 || pulse.count > 20.0',
      'pulse.quadrants.unpleasantEnergised > 0.3 && !pulse.collective.bimodal',
      'history.arousal[0] - history.arousal[29] > 0.2 && pulse.count >= 3',
      'groups["east"].shown && groups["east"].mean.valence < groups["west"].mean.valence - 0.2',
      'bridging.shown && bridging.score < 0.5',
      'pulse.collective.camps >= 2.0 && pulse.collective.largestCamp < 0.7',
      'pulse.count / 10.0 > 2.5',
    ];
    const compiled = exprs.map((e) => {
      const c = compileWhen(e, ['east', 'west']);
      if (!c.ok) throw new Error(`${e}: ${c.problem.message}`);
      return [e, c.run] as const;
    });
    const unit = fc.double({ min: -1, max: 1, noNaN: true });
    const pair = fc.record({ valence: unit, arousal: unit });
    const group = fc.record({ suppressed: fc.boolean(), count: fc.integer({ min: 3, max: 50 }), mean: pair, spread: pair, quadrants: fc.constant([0.25, 0.25, 0.25, 0.25] as const), hist: fc.constant(null) });
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 100 }), pair, pair, fc.array(fc.record({ count: fc.integer({ min: 0, max: 100 }), valence: unit, arousal: unit, dissonance: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 40 }), group, group, fc.double({ min: 0, max: 1, noNaN: true }), (count, mean, smoothed, hist, east, west, score) => {
        const h = new PolicyHistory();
        for (const p of hist) h.push(p);
        const v = view({ count, mean, smoothed, groups: { east, west }, bridging: { between: ['east', 'west'], score, closeness: score, commonGround: { share: 0.1, regionBins: 4, regions: [] } } });
        const input = policyInputOf(v, h, ['east', 'west']);
        for (const [e, run] of compiled) if (run(input) !== (runTyped(e, ['east', 'west'], input) === true)) return false;
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
