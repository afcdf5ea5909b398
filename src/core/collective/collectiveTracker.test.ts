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

  it('raises one alert within 3 s of a change, lists what moves, clears it, and stays JSON-plain', () => {
    const rng = createRng(2);
    const t = new CollectiveTracker();
    let now = 1_700_000_000_000;
    const states: CollectiveState[] = [];
    // 3 min calm; then half the room turns anxious at once (each person when they next tap,
    // ≈ 1/10 of the room per tick); 3 min later they calm down the same way.
    let people = around(rng, 60, 0.3, -0.3, 0.15);
    for (let i = 0; i < 3 * 120; i++, now += 500) states.push(tick(t, people, now));
    const surgeStart = now;
    for (let i = 0; i < 3 * 120; i++, now += 500) {
      people = people.map((p, j) => (j < 30 && (j + i) % 10 === 0 ? { v: -0.5 + 0.1 * rng.normal(), a: 0.55 + 0.1 * rng.normal() } : p));
      states.push(tick(t, people, now));
    }
    const healStart = now;
    for (let i = 0; i < 3 * 120; i++, now += 500) {
      people = people.map((p, j) => (j < 30 && (j + i) % 10 === 0 ? { v: 0.3 + 0.15 * rng.normal(), a: -0.3 + 0.15 * rng.normal() } : p));
      states.push(tick(t, people, now));
    }
    const raised = states.flatMap((s) => s.events.filter((e) => e.type === 'raised').map((e) => e.alert));
    // One change, one alert: exactly two raises (the surge and its healing), each within 3 s.
    expect(raised.map((a) => a.raisedAt - (a.raisedAt < healStart ? surgeStart : healStart))).toHaveLength(2);
    for (const [a, at] of [[raised[0], surgeStart], [raised[1], healStart]] as const) {
      expect(a).toBeDefined();
      expect((a?.raisedAt ?? 0) - at).toBeLessThanOrEqual(3_000);
      expect((a?.raisedAt ?? 0) - at).toBeGreaterThanOrEqual(0);
      expect(a?.startedAt).toBeLessThanOrEqual(a?.raisedAt ?? 0);
    }
    // Updates grow the magnitude and the probability as the change unfolds.
    const updates = states.flatMap((s) => s.events.filter((e) => e.type === 'updated' && e.alert.id === raised[0]?.id).map((e) => e.alert));
    const ue = updates.at(-1)?.metrics.find((m) => m.metric === 'share:unpleasant-energised');
    expect(ue?.direction).toBe('up');
    expect(Math.max(...updates.map((u) => u.magnitude))).toBeGreaterThan(0.3);
    expect(Math.max(...updates.map((u) => u.probability))).toBeGreaterThan(0.9);
    const cleared = states.flatMap((s) => s.events.filter((e) => e.type === 'cleared').map((e) => e.alert));
    // The first alert settles a minute after the room stopped moving, before the healing comes.
    expect(cleared[0]?.id).toBe(raised[0]?.id);
    expect(cleared[0]?.reason).toBe('settled');
    expect(cleared[0]?.clearedAt).toBeLessThan(raised[1]?.raisedAt ?? 0);
    // During the surge: two camps and a high dissonance.
    const mid = states[3 * 120 + 120] as CollectiveState;
    expect(mid.camps).toHaveLength(2);
    expect(mid.dissonance.score).toBeGreaterThan(0.4);
    expect(mid.dissonance.bimodal).toBe(true);
    expect(mid.kHistory.at(-1)?.k).toBe(2);
    const end = states.at(-1) as CollectiveState;
    expect(end.camps).toHaveLength(1);
    expect(end.alerts.every((a) => a.id !== raised[0]?.id)).toBe(true);
    for (const s of [mid, end]) expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('stays quiet on a calm room for an hour', () => {
    const rng = createRng(3);
    const t = new CollectiveTracker();
    let people = around(rng, 200, 0.3, -0.3, 0.12);
    let raised = 0;
    for (let i = 0; i < 3600 * 2; i++) {
      // Everyone re-taps about every 5 s, near their own point.
      people = people.map((p, j) => ((j + i) % 10 === 0 ? { v: p.v + 0.03 * rng.normal() * 0.5 - (p.v - 0.3) * 0.05, a: p.a + 0.03 * rng.normal() * 0.5 - (p.a + 0.3) * 0.05 } : p));
      raised += tick(t, people, 1_700_000_000_000 + i * 500).events.filter((e) => e.type === 'raised').length;
    }
    expect(raised).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new CollectiveTracker({ alpha: 2 })).toThrow(RangeError);
    expect(() => new CollectiveTracker({ change: { historyTicks: 5 } })).toThrow(RangeError);
    expect(new CollectiveTracker({ alpha: 0.5 }).update({ grid: new GridHistogram(4), quadrantShares: null, meanArousal: null, count: 0, now: 0 }).dissonance.alpha).toBe(0.5);
  });
});
