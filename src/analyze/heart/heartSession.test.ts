import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/collective/prng.ts';
import { encodeHeartRateMeasurement, parseHeartRateMeasurement, rrUnitsOfMs, type SensorContact } from './heartRateMeasurement.ts';
import { HeartSession, type HeartTick } from './heartSession.ts';

/**
 * A strap at `bpm(t)` with respiratory variability `rsaMs(t)` (0.25 Hz): one frame a second
 * carrying that second's beats, as real straps notify. Returns every tick's answer (every 250 ms).
 */
function wear(session: HeartSession, fromMs: number, toMs: number, bpm: (t: number) => number, rsaMs: (t: number) => number, contact: (t: number) => SensorContact = () => 'detected', seed = 1): HeartTick[] {
  const rng = createRng(seed);
  const ticks: HeartTick[] = [];
  let beat = fromMs;
  let pending: number[] = [];
  for (let t = fromMs; t < toMs; t += 250) {
    while (beat < t) {
      const rr = 60_000 / bpm(beat) + rsaMs(beat) * Math.sin(2 * Math.PI * 0.25 * (beat / 1000)) + 3 * rng.normal();
      beat += rr;
      pending.push(rr);
    }
    if (t % 1000 === 0) {
      const c = contact(t);
      const frame = encodeHeartRateMeasurement({ bpm: c === 'lost' ? 0 : bpm(t), contact: c, rrRaw: c === 'lost' ? [] : pending.map(rrUnitsOfMs) });
      pending = [];
      const m = parseHeartRateMeasurement(frame);
      if (m.ok) session.frame(m.value, t);
    }
    ticks.push(session.tick(t));
  }
  return ticks;
}

describe('the phone’s heart session', () => {
  it('learns a baseline, then reads a faster, steadier heart as more energised', () => {
    const s = new HeartSession();
    s.said(0.4, 0);
    expect(s.tick(0).reading.status).toBe('waiting');
    const rest = wear(s, 0, 184_000, () => 65, () => 40);
    expect(rest.find((x) => x.reading.status === 'baseline')).toBeDefined();
    const lastRest = rest.at(-1)?.reading;
    expect(lastRest?.status).toBe('ready');
    expect(lastRest?.baselineFill).toBe(1);
    expect(Math.abs(lastRest?.arousal?.arousal as number)).toBeLessThan(0.35);
    const excited = wear(s, 184_000, 240_000, () => 95, () => 10);
    const a = excited.at(-1)?.reading.arousal;
    expect(a?.arousal).toBeGreaterThan(0.7);
    expect(a?.confidence).toBeGreaterThan(0.6);
    const calm = wear(s, 240_000, 330_000, () => 58, () => 60);
    expect(calm.at(-1)?.reading.arousal?.arousal).toBeLessThan(-0.3);
  });

  it('sends at most one input per 2 s, only after the person said how pleasant, carrying no raw beats', () => {
    const s = new HeartSession();
    const ticks = wear(s, 0, 60_000, () => 70, () => 30);
    expect(ticks.some((x) => x.input)).toBe(false); // no valence yet: nothing is sent
    s.said(-0.3, 60_000);
    const more = wear(s, 60_000, 120_000, () => 70, () => 30);
    const sent = more.flatMap((x, i) => (x.input ? [{ at: 60_000 + i * 250, input: x.input }] : []));
    expect(sent.length).toBeGreaterThanOrEqual(25);
    for (let i = 1; i < sent.length; i++) expect((sent[i]?.at as number) - (sent[i - 1]?.at as number)).toBeGreaterThanOrEqual(2_000);
    const first = sent[0]?.input;
    expect(Object.keys(first ?? {}).sort()).toEqual(['arousal', 'confidence', 'heart', 'source', 'valence']);
    expect(Object.keys(first?.heart ?? {})).toEqual(['bpm']);
    expect(first).toMatchObject({ valence: -0.3, source: 'heart' });
    expect(first?.heart.bpm).toBeCloseTo(70, 0);
  });

  it('stops sending when contact is lost or the strap goes quiet, and says so', () => {
    const s = new HeartSession();
    s.said(0, 0);
    wear(s, 0, 60_000, () => 70, () => 30);
    const lost = wear(s, 60_000, 70_000, () => 70, () => 30, () => 'lost');
    expect(lost.at(-1)?.reading.status).toBe('no-contact');
    expect(lost.slice(12).some((x) => x.input)).toBe(false);
    // Nothing at all for 6 s: stale.
    let quiet: HeartTick | undefined;
    for (let t = 70_000; t <= 76_000; t += 250) quiet = s.tick(t);
    expect(quiet?.reading.status).toBe('stale');
    expect(quiet?.input).toBeNull();
    const back = wear(s, 76_000, 90_000, () => 70, () => 30);
    expect(back.at(-1)?.reading.status).toBe('ready');
    expect(back.some((x) => x.input)).toBe(true);
  });

  it('ignores implausible heart rates (0 and 300 bpm)', () => {
    const s = new HeartSession();
    s.said(0, 0);
    const m = parseHeartRateMeasurement(encodeHeartRateMeasurement({ bpm: 300 }));
    const z = parseHeartRateMeasurement(encodeHeartRateMeasurement({ bpm: 0 }));
    for (let t = 0; t < 60_000; t += 500) {
      if (m.ok) s.frame(m.value, t);
      if (z.ok) s.frame(z.value, t + 250);
      expect(s.tick(t).input).toBeNull();
    }
    expect(s.reading(60_000).bpm).toBeNull();
    expect(s.reading(60_000).status).toBe('baseline');
  });
});
