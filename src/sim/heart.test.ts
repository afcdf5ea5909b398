import { describe, expect, it } from 'vitest';
import { createRng } from '../core/collective/prng.ts';
import { HeartSynchrony } from '../core/collective/heartSynchrony.ts';
import { RrWindow, rmssdOf } from '../analyze/heart/rrWindow.ts';
import { Crowd } from './crowd.ts';
import { drawHeartTraits, SimulatedHeart } from './heart.ts';
import { HeartCrowd } from './heartCrowd.ts';

const T0 = 1_700_000_000_000;

/** Adds beats at their own end times; collects the rejections. */
function feed(w: RrWindow, rr: readonly number[], rejections: unknown[] = []): RrWindow {
  let t = 0;
  for (const x of rr) {
    t += x;
    const r = w.add(x, t);
    if (r) rejections.push(r);
  }
  return w;
}

function beats(arousal: number, seconds: number, seed: number): { rr: number[]; heart: SimulatedHeart } {
  const rng = createRng(seed);
  const heart = new SimulatedHeart(drawHeartTraits(rng), rng);
  const rr: number[] = [];
  for (let t = 0; t <= seconds * 1000; t += 500) rr.push(...heart.advance(t, arousal, 0));
  return { rr, heart };
}

describe('simulated hearts', () => {
  it('beat at a resting rate with resting variability, faster and steadier when aroused', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rest = beats(0, 300, seed);
      const up = beats(0.8, 300, seed);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const hrRest = 60_000 / mean(rest.rr);
      expect(Math.abs(hrRest - rest.heart.traits.restBpm)).toBeLessThan(4);
      const w = feed(new RrWindow({ windowMs: 1e9 }), rest.rr);
      const r0 = w.rmssd() as number;
      expect(r0).toBeGreaterThan(12);
      expect(r0).toBeLessThan(90);
      const up60 = up.rr.slice(-300);
      expect(60_000 / mean(up60)).toBeGreaterThan(hrRest + 8);
      expect(rmssdOf(up60.filter((x, i) => i === 0 || Math.abs(x - (up60[i - 1] as number)) < 0.2 * x)) as number).toBeLessThan(r0);
    }
  });

  it('throws in ectopic beats, which the phone’s filter rejects', () => {
    const { rr } = beats(0, 1200, 7);
    const rejections: unknown[] = [];
    feed(new RrWindow(), rr, rejections);
    const rejected = rejections.length;
    expect(rejected).toBeGreaterThan(0);
    expect(rejected / rr.length).toBeLessThan(0.02);
  });
});

describe('heart crowd (straps → 0x2A37 frames → the phone pipeline → inputs)', () => {
  it('straps the requested share of the crowd, seeded', () => {
    const a = new HeartCrowd({ seed: 3, participants: 50, share: 0.3 });
    expect(a.wearers).toHaveLength(15);
    expect(new HeartCrowd({ seed: 3, participants: 50, share: 0.3 }).wearers).toEqual(a.wearers);
    expect(new HeartCrowd({ seed: 3, participants: 50, share: 0 }).wearers).toEqual([]);
  });

  /** Runs a calm room of straps for `seconds` and feeds every input to the synchrony measure. */
  function run(sync: number, seed: number, seconds = 150) {
    const crowd = new HeartCrowd({ seed, participants: 16, share: 1, sync });
    const s = new HeartSynchrony({ seed });
    for (const p of crowd.wearers) crowd.tapped({ participant: p, at: 0, valence: 0.2, arousal: 0, seen: false, shown: null });
    let sent = 0;
    const lastAt = new Map<number, number>();
    for (let t = 0; t <= seconds * 1000; t += 500) {
      for (const { participant, input } of crowd.step(t)) {
        sent++;
        expect(t - (lastAt.get(participant) ?? Number.NEGATIVE_INFINITY)).toBeGreaterThanOrEqual(2_000);
        lastAt.set(participant, t);
        s.observe(`p${participant}`, input.heart.bpm, T0 + t);
      }
    }
    return { m: s.compute(T0 + seconds * 1000), sent, stats: crowd.stats };
  }

  it('[HS1] end to end: a shared drive gives a high heart ISC beside a low surrogate; independent hearts do not', () => {
    const together = run(1, 11);
    const apart = run(0, 12);
    const some = run(0.5, 13); // the simulator's default drive
    const fmt = (m: typeof together.m) => `ISC ${m.isc?.toFixed(3)} [${m.lower?.toFixed(3)}, ${m.upper?.toFixed(3)}], surrogate mean ${m.surrogateMean?.toFixed(3)}, p95 ${m.surrogateP95?.toFixed(3)}, p ${m.p?.toFixed(3)}, ${m.people} people`;
    console.log(`simulated straps, shared drive: ${fmt(together.m)}`);
    console.log(`simulated straps, independent:  ${fmt(apart.m)}`);
    console.log(`simulated straps, half drive:   ${fmt(some.m)}`);
    expect(some.m.isc).toBeGreaterThan(some.m.surrogateP95 as number);
    expect(together.sent).toBeGreaterThan(16 * 50);
    expect(together.m.people).toBe(16);
    expect(together.m.isc).toBeGreaterThan(0.4);
    expect(together.m.lower).toBeGreaterThan(together.m.surrogateP95 as number);
    expect(together.m.p).toBeLessThan(0.01);
    expect(apart.m.people).toBe(16);
    expect(apart.m.isc).toBeLessThan(apart.m.surrogateP95 as number);
    expect(apart.m.p).toBeGreaterThan(0.01);
  });

  it('the hearts’ arousal follows the scenario: anxious wearers read as more energised than calm ones', () => {
    const durationMs = 600_000;
    const crowd = new Crowd({ seed: 5, participants: 60, durationMs, scenario: 'surge' });
    const hearts = new HeartCrowd({ seed: 5, participants: 60, share: 0.5, sync: 0.3 });
    const felt = new Map<number, number>();
    const high: number[] = [];
    const low: number[] = [];
    for (let t = 0; t <= durationMs; t += 500) {
      for (const tap of crowd.step(t, null)) {
        hearts.tapped(tap);
        felt.set(tap.participant, tap.arousal);
      }
      for (const { participant, input } of hearts.step(t)) {
        if (t < 200_000) continue; // after every baseline has filled
        const lag = hearts.heartArousalOf(participant) as number;
        if (lag > 0.3) high.push(input.arousal);
        else if (lag < 0) low.push(input.arousal);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`heart arousal, anxious wearers ${mean(high).toFixed(3)} (${high.length} inputs), calm wearers ${mean(low).toFixed(3)} (${low.length})`);
    expect(high.length).toBeGreaterThan(50);
    expect(low.length).toBeGreaterThan(50);
    expect(mean(high) - mean(low)).toBeGreaterThan(0.3);
  });
});
