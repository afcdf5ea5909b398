import { describe, expect, it } from 'vitest';
import { createRng } from './prng.ts';
import { DEFAULT_SURGE_OPTIONS, type SurgeAlert, SurgeMonitor } from './surge.ts';

function monitor(over: Partial<typeof DEFAULT_SURGE_OPTIONS> = {}): SurgeMonitor {
  let n = 0;
  return new SurgeMonitor('share:unpleasant-energised', { ...DEFAULT_SURGE_OPTIONS, ...over }, () => `a${++n}`);
}

describe('SurgeMonitor', () => {
  const W = DEFAULT_SURGE_OPTIONS.windowMs;

  it('raises once on a step, dates it near the true start, and clears when the level returns', () => {
    const rng = createRng(21);
    const m = monitor();
    const raised: SurgeAlert[] = [];
    const cleared: string[] = [];
    const level = (i: number): number => (i >= 60 && i < 120 ? 0.45 : 0.1);
    for (let i = 0; i < 200; i++) {
      const s = m.observe(i * W, level(i) + 0.02 * rng.normal(), (i + 1) * W);
      if (s.raised) raised.push(s.raised);
      if (s.cleared) cleared.push(s.cleared.reason);
    }
    const up = raised.filter((a) => a.direction === 'up');
    expect(up).toHaveLength(1);
    expect(Math.abs((up[0] as SurgeAlert).startedAt - 60 * W)).toBeLessThanOrEqual(2 * W);
    expect((up[0] as SurgeAlert).magnitude).toBeGreaterThan(0.25);
    expect((up[0] as SurgeAlert).probability).toBeGreaterThan(0.5);
    // The return to 0.1 either clears the up-alert as 'returned' or raises 'down' and reverses it.
    expect(cleared.length).toBeGreaterThanOrEqual(1);
    expect(m.alert === null || m.alert.direction === 'down').toBe(true);
  });

  it('stays quiet on in-control noise for thousands of windows', () => {
    const rng = createRng(22);
    const m = monitor();
    let alerts = 0;
    for (let i = 0; i < 5000; i++) if (m.observe(i * W, 0.25 + 0.02 * rng.normal(), (i + 1) * W).raised) alerts++;
    expect(alerts).toBeLessThanOrEqual(2);
  });

  it('does not clear on one window back in the band, clears on a sustained return (hysteresis)', () => {
    const m = monitor({ settleMs: Number.POSITIVE_INFINITY });
    const xs: number[] = [];
    for (let i = 0; i < 30; i++) xs.push(0.1 + (i % 2 ? 0.005 : -0.005));
    for (let i = 0; i < 20; i++) xs.push(0.5);
    // One window back at the old level, then up again: the alert must survive.
    xs.push(0.1, 0.5, 0.5, 0.5);
    let i = 0;
    const feed = (x: number) => m.observe(i * W, x, (++i) * W);
    const raised = xs.map(feed).filter((s) => s.raised).map((s) => s.raised?.direction);
    expect(raised).toEqual(['up']);
    expect(m.alert?.direction).toBe('up');
    // A sustained return clears it: on the first window back nothing clears, by the third it has.
    const steps = [0.1, 0.1, 0.1].map(feed);
    expect(steps[0]?.cleared).toBeNull();
    expect(steps.some((s) => s.cleared?.direction === 'up')).toBe(true);
    expect(m.alert?.direction ?? null).not.toBe('up');
  });

  it('clears as settled after settleMs at a new level', () => {
    const m = monitor({ settleMs: 60_000 });
    let i = 0;
    const feed = (x: number) => m.observe(i * W, x, (++i) * W);
    for (let j = 0; j < 30; j++) feed(0.1 + (j % 2 ? 0.005 : -0.005));
    const reasons: string[] = [];
    for (let j = 0; j < 40; j++) {
      const s = feed(0.5 + (j % 2 ? 0.005 : -0.005));
      if (s.cleared) reasons.push(s.cleared.reason);
    }
    expect(reasons).toEqual(['settled']);
  });

  it('supersedes an active alert when a second surge on the same side comes later', () => {
    const m = monitor({ settleMs: Number.POSITIVE_INFINITY });
    let i = 0;
    const feed = (x: number) => m.observe(i * W, x, (++i) * W);
    const jitter = (j: number) => (j % 2 ? 0.005 : -0.005);
    const steps = [];
    for (let j = 0; j < 30; j++) steps.push(feed(0.1 + jitter(j)));
    for (let j = 0; j < 30; j++) steps.push(feed(0.4 + jitter(j)));
    for (let j = 0; j < 30; j++) steps.push(feed(0.8 + jitter(j)));
    const raised = steps.filter((s) => s.raised).map((s) => s.raised?.startedAt);
    expect(raised).toEqual([30 * W, 60 * W]);
    expect(steps.filter((s) => s.cleared).map((s) => s.cleared?.reason)).toEqual(['superseded']);
  });

  it('keeps bounded state and still dates a change correctly after hours of calm', () => {
    const rng = createRng(23);
    const m = monitor();
    let i = 0;
    const feed = (x: number) => m.observe(i * W, x, (++i) * W);
    for (let j = 0; j < 3000; j++) feed(0.2 + 0.01 * rng.normal());
    const start = i;
    const raised = [];
    for (let j = 0; j < 20; j++) {
      const s = feed(0.5 + 0.01 * rng.normal());
      if (s.raised) raised.push(s.raised);
    }
    expect(raised).toHaveLength(1);
    expect(raised[0]?.startedAt).toBe(start * W);
  });
});
