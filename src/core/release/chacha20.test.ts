import { describe, expect, it } from 'vitest';
import { chachaBlock, keyOfSeed, noiseStream } from './chacha20.ts';

const hex = (words: Uint32Array) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

describe('ChaCha20 (RFC 8439)', () => {
  it('[R7] the block function matches RFC 8439 §2.3.2', () => {
    // Key 00 01 02 … 1f; nonce 00 00 00 09 00 00 00 4a 00 00 00 00; counter 1.
    const key = keyOfSeed(Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join(''));
    const out = chachaBlock(key, 1, [0x09000000, 0x4a000000, 0]);
    expect(hex(out)).toBe('e4e7f110 15593bd1 1fdd0f50 c47120a3 c7f4d1c7 0368c033 9aaa2204 4e6cd4c3 466482d2 09aa9f07 05d7c214 a2028bd9 d19c12b5 b94e16de e883d0cb 4e3c50a2');
  });

  it('[R7] a noise stream is a function of (seed, domain, seq): same inputs, same words; any change, other words', () => {
    const key = keyOfSeed('ab'.repeat(32));
    const words = (k: Uint32Array, d: number, s: number) => {
      const r = noiseStream(k, d, s);
      return Array.from({ length: 40 }, () => r.nextU32());
    };
    expect(words(key, 1, 7)).toEqual(words(key, 1, 7));
    expect(words(key, 1, 7)).not.toEqual(words(key, 1, 8));
    expect(words(key, 1, 7)).not.toEqual(words(key, 2, 7));
    expect(words(key, 1, 7)).not.toEqual(words(keyOfSeed('ac'.repeat(32)), 1, 7));
    expect(words(key, 1, 2 ** 40)).not.toEqual(words(key, 1, 0));
  });

  it('[R7] refuses a seed that is not 256 bits of hex', () => {
    expect(() => keyOfSeed('ab')).toThrow(RangeError);
    expect(() => keyOfSeed('zz'.repeat(32))).toThrow(RangeError);
  });
});
