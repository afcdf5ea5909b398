import { describe, expect, it } from 'vitest';
import { HeartSynchrony } from '../../../src/core/collective/heartSynchrony.ts';
import { releaseHeartSynchrony } from '../../../src/core/release/release.ts';
import { describeHeartRoom } from './heartRoom.ts';

const T0 = 1_700_000_000_000;

function measured(people: number, together: boolean) {
  const s = new HeartSynchrony({ seed: 1 });
  for (let p = 0; p < people; p++) for (let i = 0; i < 30; i++) s.observe(`p${p}`, 70 + 5 * (together ? Math.sin(i / 2) : Math.sin(i / 2 + p * 1.7)) + ((p * 7 + i * 3) % 5) * 0.3, T0 + i * 2000);
  return s.compute(T0 + 60_000);
}

describe('the room’s hearts in words', () => {
  it('[HS6] withholds small counts and the synchrony below the cohort', () => {
    const w = describeHeartRoom(releaseHeartSynchrony(measured(2, true), 3), 3);
    expect(w).toEqual({ sharing: 'fewer than 3 sharing a heart signal', synchrony: null, reading: 'heart synchrony appears once 3 people share for 60 s' });
  });

  it('says when hearts move together beyond chance, with the interval and the chance level', () => {
    const w = describeHeartRoom(releaseHeartSynchrony(measured(8, true), 3), 3);
    expect(w.sharing).toBe('8 sharing a heart signal');
    expect(w.synchrony).toMatch(/^heart synchrony 0\.\d\d \(95 % CI 0\.\d\d to 0\.\d\d\) · chance −?0\.\d\d, 95th percentile 0\.\d\d$/);
    expect(w.reading).toBe('8 hearts rising and falling together, beyond chance');
  });

  it('says so when they do not', () => {
    const w = describeHeartRoom(releaseHeartSynchrony(measured(8, false), 3), 3);
    expect(w.reading).toBe('8 hearts, no more in step than chance');
  });
});
