import { describe, expect, it } from 'vitest';
import { modeOfPulse } from './displayMode.ts';

describe('the mode a pulse carries', () => {
  it('[DM3] a pulse’s display field (Q8) names the mode once the steward or a policy chose one; the default or anything malformed leaves the stream’s choice', () => {
    expect(modeOfPulse({ mode: 'threads', by: 'steward', entry: 4 })).toEqual({ mode: 'threads', by: 'steward' });
    expect(modeOfPulse({ mode: 'dissonance', by: 'policy', policy: { id: 'p1' } })).toEqual({ mode: 'dissonance', by: 'policy' });
    for (const d of [undefined, null, 'threads', { mode: 'field', by: 'default' }, { mode: 'disco', by: 'steward' }, { by: 'steward' }]) expect(modeOfPulse(d)).toBeNull();
  });
});
