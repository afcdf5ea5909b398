import { describe, expect, it } from 'vitest';
import { fMeasure, mergeEvents, truePositives } from './evaluate.ts';

describe('TCPDBench scoring', () => {
  // The examples from TCPDBench's metrics.py docstrings.
  it('true_positives matches the reference examples', () => {
    expect([...truePositives([1, 10, 20, 23], [3, 8, 20]).matched.keys()].sort((a, b) => a - b)).toEqual([1, 10, 20]);
    expect([...truePositives([1, 10, 20, 23], [1, 3, 8, 20]).matched.keys()].sort((a, b) => a - b)).toEqual([1, 10, 20]);
    expect([...truePositives([1, 10, 20, 23], [1, 3, 5, 8, 20]).matched.keys()].sort((a, b) => a - b)).toEqual([1, 10, 20]);
    expect(truePositives([], [1, 2, 3]).matched.size).toBe(0);
    expect(truePositives([1, 2, 3], []).matched.size).toBe(0);
  });

  it('f_measure matches the reference examples', () => {
    // metrics.py: f_measure({1: [10, 20], 2: [11, 20], ...}) uses several annotators; with one
    // annotator [10, 20] and predictions [10, 20] the score is 1.
    expect(fMeasure([10, 20], [10, 20]).f1).toBe(1);
    // Nothing to find and nothing found: 1 (the shared start point).
    expect(fMeasure([], []).f1).toBe(1);
    // One false alarm on a series with no change: P = 1/2, R = 1, F1 = 2/3.
    expect(fMeasure([], [50]).f1).toBeCloseTo(2 / 3, 12);
    // Missed one of two: P = 1, R = 2/3, F1 = 0.8.
    expect(fMeasure([40, 80], [42]).f1).toBeCloseTo(0.8, 12);
  });

  it('merges detections of one event across metrics', () => {
    expect(mergeEvents([10, 12, 11, 40, 44, 60], 5)).toEqual([10, 40, 60]);
  });
});
