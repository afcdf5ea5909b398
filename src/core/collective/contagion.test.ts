import { describe, expect, it } from 'vitest';
import { type ContagionRecord, contagionIndex } from './contagion.ts';
import { createRng } from './prng.ts';

function synthetic(seed: number, pull: number, people = 120, taps = 12): ContagionRecord[] {
  const rng = createRng(seed);
  const out: ContagionRecord[] = [];
  for (let p = 0; p < people; p++) {
    const exposed = p % 2 === 0;
    let v = 0.8 * (2 * rng.next() - 1);
    let a = 0.8 * (2 * rng.next() - 1);
    for (let t = 0; t < taps; t++) {
      const sv = 0.3;
      const sa = 0.2;
      if (t > 0) {
        const k = exposed ? pull : 0;
        v = Math.max(-1, Math.min(1, v + k * (sv - v) + 0.1 * rng.normal()));
        a = Math.max(-1, Math.min(1, a + k * (sa - a) + 0.1 * rng.normal()));
      }
      out.push({ participantId: `p${p}`, at: t * 5000, valence: v, arousal: a, exposed, shownValence: sv, shownArousal: sa });
    }
  }
  return out;
}

describe('contagionIndex', () => {
  it('recovers a known pull of exposed participants, with the truth inside the CI', () => {
    const r = contagionIndex(synthetic(1, 0.25), { seed: 1, replicates: 400 });
    expect(r.index).not.toBeNull();
    expect(r.lower as number).toBeLessThan(r.upper as number);
    expect(r.index as number).toBeGreaterThan(0.12);
    expect(r.lower as number).toBeGreaterThan(0);
  });

  it('finds no contagion when nobody is pulled (CI covers 0)', () => {
    const r = contagionIndex(synthetic(2, 0), { seed: 2, replicates: 400 });
    expect(r.lower as number).toBeLessThan(0);
    expect(r.upper as number).toBeGreaterThan(0);
  });

  it('is null without both exposed and unexposed pairs, and deterministic for a seed', () => {
    const only = synthetic(3, 0.2).filter((r) => r.exposed);
    expect(contagionIndex(only).index).toBeNull();
    const recs = synthetic(4, 0.2, 30, 5);
    expect(contagionIndex(recs, { seed: 9, replicates: 100 })).toEqual(contagionIndex([...recs].reverse(), { seed: 9, replicates: 100 }));
  });
});
