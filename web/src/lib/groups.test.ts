import { describe, expect, it } from 'vitest';
import { describeBridging, describeGroup } from './groups.ts';

describe('groups in words', () => {
  it('a withheld group says so, without a count; a shown one gives its count and main quadrant', () => {
    expect(describeGroup({ suppressed: true, count: null, mean: null, spread: null, quadrants: null, hist: null }, 3)).toBe('hidden (fewer than 3, or to protect a smaller group)');
    expect(describeGroup({ suppressed: false, count: 0, mean: null, spread: null, quadrants: null, hist: [] }, 3)).toBe('nobody yet');
    expect(describeGroup({ suppressed: false, count: 5, mean: { valence: 0.5, arousal: 0.5 }, spread: { valence: 0, arousal: 0 }, quadrants: [1, 0, 0, 0], hist: [] }, 3)).toBe('5 people · mostly pleasant · energised');
  });

  it('bridging in words, and why it is absent', () => {
    expect(describeBridging(null, 1)).toBe('bridging appears once two groups are shown');
    expect(describeBridging({ between: ['a', 'b'], score: 0.42, closeness: 0.9, commonGround: { share: 0.1, regionBins: 4, regions: [{ region: 5, share: 0.2 }] } }, 2)).toBe('overlap 42% · closeness 90% · common ground in 1 region');
  });
});
