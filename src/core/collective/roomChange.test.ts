import { describe, expect, it } from 'vitest';
import { AlertBook, type AlertMessage, normalCdf } from './alertBook.ts';
import { createRng, type Rng } from './prng.ts';
import { type RoomChangeDetector as Detector, type RoomObservation, RoomChangeDetector } from './roomChange.ts';

const N = 300;
const C = { v: 0.3, a: -0.25 };
const A = { v: -0.5, a: 0.55 };
const SD = 0.12;

/**
 * A room of N people: a share p at the anxious point A, the rest at C, both clouds of sd SD
 * (each wholly inside its quadrant), with a little sampling noise on every aggregate.
 */
function mixture(p: number, now: number, rng: Rng): RoomObservation {
  const jitter = (s: number) => s * rng.normal();
  const ue = Math.min(1, Math.max(0, p + jitter(0.5 / N)));
  const dv = A.v - C.v;
  const da = A.a - C.a;
  return {
    count: N,
    shares: [0, 1 - ue, 0, ue],
    meanValence: C.v + p * dv + jitter(0.002),
    meanArousal: C.a + p * da + jitter(0.002),
    dispersion: 2 * SD * SD + p * (1 - p) * (dv * dv + da * da) + jitter(0.001),
    now,
  };
}

/** One cloud at valence 0.3 whose arousal centre is `ma`: it straddles the arousal boundary. */
function cloud(ma: number, now: number, rng: Rng): RoomObservation {
  const pe = normalCdf(ma / SD);
  const jitter = (s: number) => s * rng.normal();
  const q = Math.min(1, Math.max(0, pe + jitter(0.5 / N)));
  return { count: N, shares: [q, 1 - q, 0, 0], meanValence: 0.3 + jitter(0.002), meanArousal: ma + jitter(0.002), dispersion: 2 * SD * SD + jitter(0.001), now };
}

function run(det: Detector, book: AlertBook, obs: (i: number, now: number) => RoomObservation, ticks: number, t0 = 0): { messages: (AlertMessage & { tick: number })[]; drifting: number } {
  const messages: (AlertMessage & { tick: number })[] = [];
  let drifting = 0;
  for (let i = 0; i < ticks; i++) {
    const now = t0 + i * 500;
    det.freezeNoise(book.building);
    const step = det.observe(obs(i, now));
    drifting += step.drifting.length;
    for (const m of book.step(det, step.alarms, 1, now)) messages.push({ ...m, tick: i });
  }
  return { messages, drifting };
}

describe('RoomChangeDetector + AlertBook', () => {
  it('raises one alert within 2 s of a jump, starting near it, listing every feature that moves', () => {
    const rng = createRng(31);
    const det = new RoomChangeDetector();
    const book = new AlertBook();
    // Calm for 2 min, then 30 % of the room turns anxious over 6 s (3 % per tick), then holds.
    const p = (i: number) => (i < 240 ? 0.01 : Math.min(0.31, 0.01 + 0.015 * (i - 240)));
    const { messages } = run(det, book, (i, now) => mixture(p(i), now, rng), 480);
    const raised = messages.filter((m) => m.type === 'raised');
    expect(raised).toHaveLength(1);
    const r = raised[0] as (typeof raised)[number];
    expect(r.tick - 240).toBeLessThanOrEqual(4);
    expect(r.alert.startedAt).toBeGreaterThanOrEqual(238 * 500);
    expect(r.alert.startedAt).toBeLessThanOrEqual(r.alert.raisedAt);
    const last = messages.filter((m) => m.type === 'updated').at(-1);
    const moving = new Set(last?.alert.metrics.map((m) => `${m.metric}:${m.direction}`));
    for (const want of ['share:unpleasant-energised:up', 'share:pleasant-calm:down', 'meanValence:down', 'meanArousal:up']) expect(moving.has(want)).toBe(true);
    expect(last?.alert.magnitude).toBeCloseTo(0.3, 1);
    expect(last?.alert.probability).toBeGreaterThan(0.99);
    // It stops building, holds, and settles a minute later: one alert for one change.
    expect(messages.some((m) => m.type === 'updated' && m.alert.state === 'holding')).toBe(true);
    expect(messages.filter((m) => m.type === 'cleared').map((m) => (m.type === 'cleared' ? m.alert.reason : null))).toEqual(['settled']);
  });

  it('treats the return as a new change and clears the first alert as reversed', () => {
    const rng = createRng(32);
    const det = new RoomChangeDetector();
    const book = new AlertBook();
    const p = (i: number) => (i < 240 ? 0.01 : i < 300 ? Math.min(0.41, 0.01 + 0.02 * (i - 240)) : Math.max(0.01, 0.41 - 0.02 * (i - 300)));
    const { messages } = run(det, book, (i, now) => mixture(p(i), now, rng), 420);
    const raised = messages.filter((m) => m.type === 'raised');
    expect(raised.map((m) => m.tick - (m.tick < 300 ? 240 : 300)).every((d) => d >= 0 && d <= 4)).toBe(true);
    expect(raised).toHaveLength(2);
    const cleared = messages.filter((m) => m.type === 'cleared');
    expect(cleared[0]?.type === 'cleared' && cleared[0].alert.reason).toBe('reversed');
    expect(cleared[0]?.tick).toBe(raised[1]?.tick);
  });

  it('does not alert on one cloud drifting across a boundary, however many people cross', () => {
    const rng = createRng(33);
    const det = new RoomChangeDetector();
    const book = new AlertBook();
    // 2 min still, then the cloud's arousal rises 0.0035/s for 3 min: the pleasant-energised
    // share goes 0 → 1, up to 3.5 people a second at the crossing.
    const ma = (i: number) => -0.3 + 0.0035 * Math.max(0, (Math.min(i, 600) - 240) / 2);
    const { messages, drifting } = run(det, book, (i, now) => cloud(ma(i), now, rng), 720);
    expect(cloud(ma(720), 0, rng).shares[0]).toBeGreaterThan(0.9);
    expect(drifting).toBeGreaterThan(0);
    expect(messages.filter((m) => m.type === 'raised')).toEqual([]);
    // …and reports it as a trend while it lasts.
    const trendSeen = [];
    const det2 = new RoomChangeDetector();
    const book2 = new AlertBook();
    const rng2 = createRng(33);
    for (let i = 0; i < 720; i++) {
      const step = det2.observe(cloud(ma(i), i * 500, rng2));
      book2.step(det2, step.alarms, 1, i * 500);
      if (book2.activeTrend) trendSeen.push(i);
    }
    expect(trendSeen.length).toBeGreaterThan(0);
    expect(Math.min(...trendSeen)).toBeGreaterThan(240);
    expect(book2.activeTrend === null || Math.max(...trendSeen) >= 700).toBe(true);
  });

  it('stays quiet on a still room for an hour, with bounded state', () => {
    const rng = createRng(34);
    const det = new RoomChangeDetector();
    const book = new AlertBook();
    const { messages } = run(det, book, (_i, now) => mixture(0.02, now, rng), 7200);
    expect(messages).toEqual([]);
    expect(det.held).toBe(det.options.historyTicks);
  });

  it('restarts after a gap and does not detect before its warm-up', () => {
    const rng = createRng(35);
    const det = new RoomChangeDetector();
    for (let i = 0; i < 100; i++) det.observe(mixture(0.01, i * 500, rng));
    expect(det.armed).toBe(true);
    // Ten seconds without a tick: the history restarts, and a jump right after is not alerted.
    const t0 = 100 * 500 + 10_000;
    const steps = [];
    for (let i = 0; i < 20; i++) steps.push(det.observe(mixture(i < 5 ? 0.01 : 0.4, t0 + i * 500, rng)));
    expect(steps.every((s) => s.alarms.length === 0)).toBe(true);
    expect(det.armed).toBe(false);
  });

  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
  });
});
