import { describe, expect, it } from 'vitest';
import { fMeasure } from './evaluate.ts';
import { runInProcess } from './runInProcess.ts';

describe('runInProcess (crowd → pulse → tracker, 2 Hz manual clock)', () => {
  it('raises one alert per scripted change within the margin, online, and counts the camps', () => {
    const r = runInProcess({ seed: 'test-1', participants: 300, durationMs: 10 * 60_000, scenario: 'surge' });
    const W = r.windowMs;
    const truth = r.truth.changePoints.map((c) => Math.floor(c.atMs / W));
    // Scored where an observer sees them: the window in which each alert was first published.
    const raised = r.alerts.map((a) => Math.floor((a.raisedAt - r.epoch) / W));
    expect(raised.length).toBe(truth.length);
    expect(fMeasure(truth, raised, 5).f1).toBe(1);
    for (const a of r.alerts) {
      expect(a.startedAt).toBeLessThanOrEqual(a.raisedAt);
      expect(a.probability).toBeGreaterThan(0.5);
      expect(a.metrics.length).toBeGreaterThan(0);
    }
    const acc = r.windows.filter((w) => w.shownCamps === w.trueCamps).length / r.windows.length;
    expect(acc).toBeGreaterThan(0.95);
    expect(JSON.parse(JSON.stringify(r.last))).toEqual(r.last);
  });

  it('reports a slow drift as a trend, not as alerts', () => {
    const r = runInProcess({ seed: 'test-drift', participants: 300, durationMs: 10 * 60_000, scenario: 'drift' });
    expect(r.truth.changePoints).toEqual([]);
    expect(r.alerts).toEqual([]);
    expect(r.trends.length).toBeGreaterThanOrEqual(1);
    const tr = r.truth.trends[0];
    const first = r.trends[0];
    expect(tr && first && first.raisedAt - r.epoch).toBeGreaterThan(tr?.startMs ?? 0);
    expect(tr && first && first.raisedAt - r.epoch).toBeLessThan(tr?.endMs ?? 0);
  });
});
