import { describe, expect, it } from 'vitest';
import { checkPseudonym, checkStoryText, MAX_STORY_CHARS } from './storyText.ts';

describe('story text (SPEC ST3)', () => {
  it('[ST3] keeps markup, emoji, line breaks, tabs and right-to-left scripts with their implicit marks, NFC-normalised', () => {
    const t = '<script>alert(1)</script>\r\nשלום \u200Fעולם\t👩‍👩‍👧 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Cafe\u0301';
    const r = checkStoryText(`  ${t}  `);
    expect(r).toEqual({ ok: true, text: '<script>alert(1)</script>\nשלום \u200Fעולם\t👩‍👩‍👧 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Café' });
  });

  it('[ST3] counts user-perceived characters: 1,000 family emoji fit, 1,001 letters do not; 10,000 are refused early', () => {
    expect(checkStoryText('👩‍👩‍👧'.repeat(MAX_STORY_CHARS)).ok).toBe(true);
    expect(checkStoryText('a'.repeat(MAX_STORY_CHARS + 1))).toMatchObject({ ok: false, code: 'STORY_TOO_LONG' });
    expect(checkStoryText('a'.repeat(10_000))).toMatchObject({ ok: false, code: 'STORY_TOO_LONG', message: expect.stringContaining('10000') });
    expect(checkStoryText('a'.repeat(100_000))).toMatchObject({ ok: false, code: 'STORY_TOO_LONG' });
  });

  it('[ST3] refuses direction overrides, embeddings and isolates, control and invisible characters, separators and lone surrogates, naming them', () => {
    for (const [s, cp] of [
      ['a\u202Eb', 'U+202E'],
      ['a\u202Ab', 'U+202A'],
      ['a\u2067b', 'U+2067'],
      ['a\u0000b', 'U+0000'],
      ['a\u001Bb', 'U+001B'],
      ['a\u0085b', 'U+0085'],
      ['a\u200Bb', 'U+200B'],
      ['a\uFEFFb', 'U+FEFF'],
      ['a\u2028b', 'U+2028'],
      ['a\uD800b', 'U+D800'],
      ['a\u{E0041}b', 'U+E0041'],
    ] as const) {
      expect(checkStoryText(s), cp).toMatchObject({ ok: false, code: 'BAD_CHARACTER', message: expect.stringContaining(cp) });
    }
    expect(checkStoryText(' \n\t ')).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });

  it('[ST3] a pseudonym is one short line; empty means anonymous', () => {
    expect(checkPseudonym(undefined)).toEqual({ ok: true, name: null });
    expect(checkPseudonym('   ')).toEqual({ ok: true, name: null });
    expect(checkPseudonym(' River ')).toEqual({ ok: true, name: 'River' });
    expect(checkPseudonym('a\nb')).toMatchObject({ ok: false, code: 'BAD_CHARACTER' });
    expect(checkPseudonym('a\u200Fb')).toMatchObject({ ok: false, code: 'BAD_CHARACTER' });
    expect(checkPseudonym('x'.repeat(41))).toMatchObject({ ok: false, code: 'STORY_TOO_LONG' });
  });
});
