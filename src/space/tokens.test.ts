/**
 * Tokens and ids the host hands out are base64url that never starts with '-', so that
 * `attune … --token X` and positional ids are never read as options (1 in 64 would).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noLeadingDash } from './spaceHost.ts';

describe('tokens and ids', () => {
  it('never start with a dash; same length; unchanged when they did not', () => {
    const b64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 43 });
    fc.assert(
      fc.property(b64url, (s) => {
        const t = noLeadingDash(s);
        expect(t.startsWith('-')).toBe(false);
        expect(t.length).toBe(s.length);
        expect(t.slice(1)).toBe(s.slice(1));
        if (!s.startsWith('-')) expect(t).toBe(s);
      }),
      { seed: 64 },
    );
    expect(noLeadingDash('-abc')).toBe('_abc');
  });
});
