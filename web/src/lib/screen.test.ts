import { describe, expect, it } from 'vitest';
import { CALM_HEARTBEAT_FACTOR, heartbeatBpm } from '../../../src/core/displayMode.ts';
import { bpmOf } from './affect.ts';
import type { DisplayField } from './feedback.ts';
import { mergeNotifications, type NotificationItem } from './notifications.ts';
import { axisWordsOf, calmShown, crowdShown, DEFAULT_AXIS_WORDS, quadrantLabel, ScreenSmoother, smoothedForScreen, smoothingOf } from './screen.ts';

const display = (o: Partial<DisplayField>): DisplayField => ({ mode: 'field', by: 'policy', entry: 4, paused: false, showCrowd: true, smoothingSeconds: null, until: 60_000, policy: { id: 'p', version: 1, name: 'quiet' }, reason: 'r', ...o });

describe('what a council changes on the screens', () => {
  it('[Q5] smoothingSeconds: an EMA of the released mean with τ = the seconds, stepped by pulse times, not by how often pulses come', () => {
    const at2Hz = new ScreenSmoother();
    const at20Hz = new ScreenSmoother();
    const pulse = (at: number, valence: number) => ({ at, mean: { valence, arousal: 0 }, smoothed: { valence: 0.5, arousal: 0 } });
    expect(at2Hz.next(pulse(0, 0), 10)).toEqual({ valence: 0, arousal: 0 });
    at20Hz.next(pulse(0, 0), 10);
    let a = null;
    let b = null;
    for (let t = 50; t <= 10_000; t += 50) {
      b = at20Hz.next(pulse(t, 1), 10);
      if (t % 500 === 0) a = at2Hz.next(pulse(t, 1), 10);
    }
    // After one time constant a step has come 1 − 1/e of the way, at either rate.
    expect(a?.valence).toBeCloseTo(1 - Math.exp(-1), 9);
    expect(b?.valence).toBeCloseTo(1 - Math.exp(-1), 9);
    // A longer τ moves slower.
    const slow = new ScreenSmoother();
    slow.next(pulse(0, 0), 30);
    expect(slow.next(pulse(10_000, 1), 30)?.valence).toBeCloseTo(1 - Math.exp(-1 / 3), 9);
  });

  it('[Q5] without a council smoothing the server’s smoothed mean is drawn, and the EMA then starts from it', () => {
    const s = new ScreenSmoother();
    const p = { at: 0, mean: { valence: 1, arousal: 0 }, smoothed: { valence: 0.2, arousal: 0.1 } };
    expect(smoothedForScreen(s, p, null)).toBe(p);
    const next = smoothedForScreen(s, { at: 1000, mean: { valence: 1, arousal: 0.1 }, smoothed: { valence: 0.4, arousal: 0.1 } }, 1);
    expect(next.smoothed?.valence).toBeCloseTo(0.2 + 0.8 * (1 - Math.exp(-1)), 9);
    // Withheld (no mean): nothing to draw, and the next smoothing starts afresh.
    expect(s.next({ at: 1500, mean: null, smoothed: null }, 5)).toBeNull();
  });

  it('[Q5][Q8] the settings apply while a policy sets them, never to a participant who opted out; the bounds are the action’s', () => {
    expect(smoothingOf(display({ smoothingSeconds: 20 }))).toBe(20);
    expect(smoothingOf(display({ smoothingSeconds: 20 }), true)).toBeNull();
    expect(smoothingOf(display({ smoothingSeconds: 31 }))).toBeNull();
    expect(smoothingOf(null)).toBeNull();
    expect(crowdShown(display({ showCrowd: false }))).toBe(false);
    expect(crowdShown(display({ showCrowd: false }), true)).toBe(true);
    expect(crowdShown(display({}))).toBe(true);
    expect(crowdShown(null)).toBe(true);
    const calm = { mode: 'calm', policy: null, reason: '', until: null, entry: null } as const;
    expect(calmShown(calm)).toBe(true);
    expect(calmShown(calm, true)).toBe(false);
    expect(calmShown({ ...calm, mode: 'mirror' })).toBe(false);
  });

  it('[Q5] calm slows the heartbeat to 0.6 of the room’s rate, the same on the screens and the OSC feed', () => {
    expect(CALM_HEARTBEAT_FACTOR).toBe(0.6);
    for (const a of [-1, -0.3, 0, 0.5, 1]) {
      expect(bpmOf(a, true)).toBeCloseTo(bpmOf(a) * 0.6, 9);
      expect(bpmOf(a, true)).toBe(heartbeatBpm(a, true));
    }
    expect(bpmOf(1, true)).toBeLessThan(bpmOf(1));
    expect(bpmOf(1, true)).toBeCloseTo(79.2, 9);
  });

  it('[Q14] a template’s grid words name the axes; missing or blank words fall back to attune’s', () => {
    expect(axisWordsOf(null)).toBe(DEFAULT_AXIS_WORDS);
    expect(axisWordsOf({ words: { pleasant: 'moved', unpleasant: 'unsettled', calm: 'still', energised: 'electric' } })).toEqual({ pleasant: 'moved', unpleasant: 'unsettled', calm: 'still', energised: 'electric' });
    expect(axisWordsOf({ words: { pleasant: ' ', calm: 'still' } })).toEqual({ ...DEFAULT_AXIS_WORDS, calm: 'still' });
    // Quadrants are named by their axes' words (the shares lines of the phone and display).
    expect(quadrantLabel('pleasant-energised', DEFAULT_AXIS_WORDS)).toBe('pleasant · energised');
    expect(quadrantLabel('unpleasant-calm', { pleasant: 'moved', unpleasant: 'unsettled', calm: 'still', energised: 'electric' })).toBe('unsettled · still');
  });

  it('[Q13] notifications read again are shown once, newest first', () => {
    const n = (k: number): NotificationItem => ({ n: k, at: k, audience: 'council', message: `m${k}`, policy: { id: 'p', version: 1, name: 'tell' }, entry: k });
    const shown = mergeNotifications([], [n(1), n(2)]);
    expect(shown.map((x) => x.n)).toEqual([2, 1]);
    expect(mergeNotifications(shown, [n(2)])).toBe(shown);
    expect(mergeNotifications(shown, [n(2), n(3)]).map((x) => x.n)).toEqual([3, 2, 1]);
  });
});
