/**
 * Tokens and ids the host hands out are base64url that never starts with '-', so that
 * `attune … --token X` and positional ids are never read as options (1 in 64 would); participant
 * ids and resume tokens sort by when they were made (S19), and tokens from before still resume.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { hashToken, newParticipantId, newParticipantToken, noLeadingDash, participantTokenKey, TIME_PREFIX_LENGTH, timePrefix } from './tokens.ts';

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

  it('[S19] the time prefix keeps the order of times: earlier → smaller string, equal → equal', () => {
    const ms = fc.integer({ min: 2 ** 36, max: 2 ** 42 - 1 });
    fc.assert(
      fc.property(ms, ms, (a, b) => {
        const pa = timePrefix(a);
        const pb = timePrefix(b);
        expect(pa).toHaveLength(TIME_PREFIX_LENGTH);
        expect(Math.sign(pa < pb ? -1 : pa > pb ? 1 : 0)).toBe(Math.sign(a - b));
      }),
      { seed: 19 },
    );
    // Today's times begin with a letter, never '-'.
    expect(timePrefix(Date.UTC(2026, 11, 2))).toMatch(/^[A-Za-z]/);
  });

  it('[S19] participant ids and tokens: base64url, the prefix of their time, random past it', () => {
    const at = Date.UTC(2026, 11, 2, 4, 40);
    const ids = Array.from({ length: 200 }, () => newParticipantId(at));
    const tokens = Array.from({ length: 200 }, () => newParticipantToken(at));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{18}$/);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{49}$/);
    expect(new Set(ids).size).toBe(200);
    expect(new Set(tokens.map((t) => t.slice(TIME_PREFIX_LENGTH))).size).toBe(200);
    expect(new Set([...ids, ...tokens].map((x) => x.slice(0, TIME_PREFIX_LENGTH)))).toEqual(new Set([timePrefix(at)]));
  });

  it("[S19] a token's stored key: its prefix and the SHA-256 of the whole token; a token from before keeps the plain SHA-256", () => {
    const t = newParticipantToken(Date.UTC(2026, 11, 2));
    const sha = createHash('sha256').update(t).digest('hex');
    expect(participantTokenKey(t)).toBe(t.slice(0, TIME_PREFIX_LENGTH) + sha);
    const old = noLeadingDash(createHash('sha256').update('x').digest().toString('base64url'));
    expect(old).toHaveLength(43);
    expect(participantTokenKey(old)).toBe(hashToken(old));
    expect(participantTokenKey('short')).toBe(hashToken('short'));
  });
});
