import { describe, expect, it } from 'vitest';
import { fMeasure, mergeEvents } from './evaluate.ts';
import { runInProcess } from './runInProcess.ts';

describe('runInProcess (crowd → pulse → tracker)', () => {
  it('detects the scripted surge and heal of a seeded crowd, and counts its camps', () => {
    const r = runInProcess({ seed: 'test-1', participants: 60, durationMs: 10 * 60_000, scenario: 'surge' });
    const W = r.windowMs;
    const truth = r.truth.changePoints.map((c) => Math.floor(c.atMs / W));
    const found = mergeEvents(
      r.alerts.map((a) => Math.floor((a.startedAt - r.epoch) / W)),
      5,
    );
    expect(fMeasure(truth, found, 5).f1).toBeGreaterThanOrEqual(0.8);
    const acc = r.windows.filter((w) => w.shownCamps === w.trueCamps).length / r.windows.length;
    expect(acc).toBeGreaterThan(0.9);
    expect(JSON.parse(JSON.stringify(r.last))).toEqual(r.last);
  });
});
