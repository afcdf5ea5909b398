import { describe, expect, it } from 'vitest';
import { quadrantOf } from '../affect.ts';
import { GridHistogram } from '../histogram.ts';
import { type CollectiveState, CollectiveTracker } from './collectiveTracker.ts';
import { createRng, type Rng } from './prng.ts';

interface Person {
  v: number;
  a: number;
}

function tick(tracker: CollectiveTracker, people: readonly Person[], now: number): CollectiveState {
  const g = new GridHistogram(16);
  const shares = [0, 0, 0, 0];
  let sa = 0;
  for (const p of people) {
    g.add(p.v, p.a);
    shares[quadrantOf(p.v, p.a)] = (shares[quadrantOf(p.v, p.a)] as number) + 1;
    sa += p.a;
  }
  const n = people.length;
  return tracker.update({ grid: g, quadrantShares: n ? shares.map((s) => s / n) : null, meanArousal: n ? sa / n : null, count: n, now });
}

const around = (rng: Rng, n: number, v: number, a: number, sd = 0.1): Person[] =>
  Array.from({ length: n }, () => ({ v: Math.max(-1, Math.min(1, v + sd * rng.normal())), a: Math.max(-1, Math.min(1, a + sd * rng.normal())) }));

describe('CollectiveTracker', () => {
  it('reports nothing identifying below 5 people', () => {
    const t = new CollectiveTracker();
    const s = tick(t, around(createRng(1), 4, 0.5, 0.5), 0);
    expect(s.camps).toEqual([]);
    expect(s.dissonance.score).toBe(0);
    expect(s.alerts).toEqual([]);
  });

  it('sees a split, raises a surge alert with every field, clears it, and stays JSON-plain', () => {
    const rng = createRng(2);
    const t = new CollectiveTracker();
    let now = 1_700_000_000_000;
    const states: CollectiveState[] = [];
    // 3 min calm, then an anxiety surge for 3 min, then back to calm.
    for (let i = 0; i < 3 * 120; i++, now += 500) states.push(tick(t, around(rng, 60, 0.3, -0.3, 0.15), now));
    const surgeStart = now;
    for (let i = 0; i < 3 * 120; i++, now += 500) states.push(tick(t, [...around(rng, 30, -0.5, 0.55), ...around(rng, 30, 0.3, -0.3)], now));
    for (let i = 0; i < 3 * 120; i++, now += 500) states.push(tick(t, around(rng, 60, 0.3, -0.3, 0.15), now));
    const raised = new Map<string, CollectiveState['alerts'][number]>();
    for (const s of states) for (const a of s.alerts) if (!raised.has(a.id)) raised.set(a.id, a);
    const ue = [...raised.values()].find((a) => a.metric === 'share:unpleasant-energised' && a.direction === 'up');
    expect(ue).toBeDefined();
    expect(Math.abs((ue?.startedAt ?? 0) - surgeStart)).toBeLessThanOrEqual(10_000);
    expect(ue?.magnitude).toBeGreaterThan(0.3);
    expect(ue?.probability).toBeGreaterThan(0.5);
    expect(ue?.raisedAt).toBeGreaterThanOrEqual(surgeStart);
    // During the split: two camps and a high dissonance.
    const mid = states[3 * 120 + 120] as CollectiveState;
    expect(mid.camps).toHaveLength(2);
    expect(mid.dissonance.score).toBeGreaterThan(0.4);
    expect(mid.dissonance.bimodal).toBe(true);
    expect(mid.kHistory.at(-1)?.k).toBe(2);
    // After the return the surge alert is no longer active and appears among the cleared.
    const end = states.at(-1) as CollectiveState;
    expect(end.alerts.some((a) => a.id === ue?.id)).toBe(false);
    expect(states.some((s) => s.cleared.some((c) => c.id === ue?.id))).toBe(true);
    expect(end.camps).toHaveLength(1);
    for (const s of [mid, end]) expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('validates its options', () => {
    expect(() => new CollectiveTracker({ alpha: 2 })).toThrow(RangeError);
    expect(() => new CollectiveTracker({ surge: { windowMs: 0 } })).toThrow(RangeError);
    expect(new CollectiveTracker({ alpha: 0.5 }).update({ grid: new GridHistogram(4), quadrantShares: null, meanArousal: null, count: 0, now: 0 }).dissonance.alpha).toBe(0.5);
  });
});
