import { describe, expect, it } from 'vitest';
import { checkGroupNames } from './groupNames.ts';

describe('group names (R6)', () => {
  it('normalises, keeps order, and refuses duplicates, too many, too long and invisible characters', () => {
    expect(checkGroupNames([' east ', 'west'])).toEqual({ ok: true, value: ['east', 'west'] });
    expect(checkGroupNames(['a', 'a']).ok).toBe(false);
    expect(checkGroupNames(Array.from({ length: 9 }, (_, i) => `g${i}`)).ok).toBe(false);
    expect(checkGroupNames(['x'.repeat(41)]).ok).toBe(false);
    expect(checkGroupNames(['ab\u202e']).ok).toBe(false);
    expect(checkGroupNames(['']).ok).toBe(false);
    expect(checkGroupNames([]).ok).toBe(true);
  });
});
