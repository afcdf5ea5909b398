import { describe, expect, it } from 'vitest';
import { RenderScale, scaleFromQuery } from './renderScale.ts';

const run = (r: RenderScale, intervals: readonly number[]) => {
  let changes = 0;
  for (const ms of intervals) if (r.frame(ms)) changes++;
  return changes;
};
const frames = (n: number, ms: number) => new Array<number>(n).fill(ms);

describe('display render scale', () => {
  it('[DM4] stays at full resolution while frames keep up, steps down after missed frames, and back up after a calm run', () => {
    const r = new RenderScale();
    expect(run(r, frames(600, 16.7))).toBe(0);
    expect(r.scale).toBe(1);
    // Three misses in a window are tolerated; the fourth steps down.
    expect(run(r, [33, 16.7, 33, 16.7, 33])).toBe(0);
    expect(run(r, [33])).toBe(1);
    expect(r.scale).toBe(0.85);
    // Misses spread thinner than 4 per 30 frames never step down.
    const sparse = r.scale;
    for (let k = 0; k < 40; k++) run(r, [33, ...frames(9, 16.7)]);
    expect(r.scale).toBe(sparse);
    // A calm run of 240 frames steps back up.
    expect(run(r, frames(240, 16.7))).toBe(1);
    expect(r.scale).toBe(1);
  });

  it('[DM4] a step up that misses at once doubles the wait before the next try; it never goes below the lowest step', () => {
    const r = new RenderScale({ steps: [1, 0.5] });
    run(r, frames(4, 50));
    expect(r.scale).toBe(0.5);
    run(r, frames(240, 16.7));
    expect(r.scale).toBe(1);
    run(r, frames(4, 50)); // too much at once
    expect(r.scale).toBe(0.5);
    run(r, frames(240, 16.7));
    expect(r.scale).toBe(0.5); // now it waits 480 frames
    run(r, frames(240, 16.7));
    expect(r.scale).toBe(1);
    run(r, frames(100, 50));
    run(r, frames(100, 50));
    expect(r.scale).toBe(0.5);
  });

  it('[DM4] ignores a hidden tab’s or a stalled machine’s long gaps', () => {
    const r = new RenderScale();
    run(r, frames(20, 1000));
    expect(r.scale).toBe(1);
  });
});

describe('?scale=', () => {
  it('[DM4] pins a scale in 0.25…1; anything else follows the frames', () => {
    expect(scaleFromQuery('?scale=1')).toBe(1);
    expect(scaleFromQuery('?mode=threads&scale=0.5')).toBe(0.5);
    for (const q of ['', '?scale=', '?scale=2', '?scale=0.1', '?scale=abc']) expect(scaleFromQuery(q)).toBeNull();
  });
});
