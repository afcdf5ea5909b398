import { describe, expect, it } from 'vitest';
import { countDecision, decide, emptyCounts, initialStatus, nextStory, rateRefusal, STORY_RATE } from './stories.ts';

describe('story rules (SPEC ST4–ST8)', () => {
  it('[ST4] pre-moderation always waits; post-moderation shows at once unless flagged', () => {
    expect(initialStatus({ enabled: true, moderation: 'pre' }, [])).toBe('waiting');
    expect(initialStatus({ enabled: true, moderation: 'post' }, [])).toBe('shown');
    expect(initialStatus({ enabled: true, moderation: 'post' }, ['profanity:shit'])).toBe('waiting');
  });

  it('[ST5] at most 3 per 10 minutes and 5 waiting, with when to try again', () => {
    const w = STORY_RATE.windowMs;
    expect(rateRefusal([], 0, 0)).toBeNull();
    expect(rateRefusal([0, 1000], 0, 2000)).toBeNull();
    expect(rateRefusal([0, 1000, 2000], 0, 3000)).toMatchObject({ retryAfterMs: w - 3000 });
    expect(rateRefusal([0, 1000, 2000], 0, w + 1)).toBeNull();
    expect(rateRefusal([], 5, 0)).not.toBeNull();
  });

  it('[ST6] decisions move between states; a no-op or hiding a declined story is refused', () => {
    expect(decide('waiting', 'approve')).toEqual({ ok: true, status: 'shown' });
    expect(decide('shown', 'hide')).toEqual({ ok: true, status: 'hidden' });
    expect(decide('hidden', 'approve')).toEqual({ ok: true, status: 'shown' });
    expect(decide('shown', 'decline')).toEqual({ ok: true, status: 'declined' });
    expect(decide('shown', 'approve').ok).toBe(false);
    expect(decide('declined', 'hide').ok).toBe(false);
  });

  it('[ST7] counts decisions by category', () => {
    let c = emptyCounts();
    c = countDecision(c, 'approve', null);
    c = countDecision(c, 'decline', 'hurtful');
    c = countDecision(c, 'decline', null);
    expect(c.approved).toBe(1);
    expect(c.declined.hurtful).toBe(1);
    expect(c.declined.other).toBe(1);
  });

  it('[ST8] the display rotates through shown stories in order, wrapping', () => {
    expect(nextStory([], null)).toBeNull();
    expect(nextStory(['a', 'b'], null)).toBe('a');
    expect(nextStory(['a', 'b'], 'a')).toBe('b');
    expect(nextStory(['a', 'b'], 'b')).toBe('a');
    expect(nextStory(['a', 'b'], 'gone')).toBe('a');
  });
});
