import { describe, expect, it } from 'vitest';
import { secureRandomBytes } from './secureRandom.ts';

describe('secureRandomBytes', () => {
  it('hands out fresh bytes of their own, across pool refills', () => {
    const seen = new Set<string>();
    const outs: Buffer[] = [];
    // 3 × 4 KiB: the pool refills twice; 32-byte draws never straddle a refill.
    for (let i = 0; i < 384; i++) {
      const b = secureRandomBytes(32);
      expect(b.length).toBe(32);
      const hex = b.toString('hex');
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
      outs.push(b);
    }
    // Each its own backing store: writing one changes no other.
    const copy = Buffer.from(outs[1] as Buffer);
    (outs[0] as Buffer).fill(0);
    expect(outs[1]).toEqual(copy);
    expect((outs[0] as Buffer).buffer).not.toBe((outs[1] as Buffer).buffer);
    // Byte values spread over the whole range (12 KiB of draws: every value appears).
    const counts = new Array<number>(256).fill(0);
    for (const b of outs) for (const x of b) counts[x] = (counts[x] ?? 0) + 1;
    expect(counts.every((c) => c > 0)).toBe(true);
  });

  it('refuses sizes the pool cannot serve', () => {
    expect(() => secureRandomBytes(4097)).toThrow(RangeError);
    expect(() => secureRandomBytes(-1)).toThrow(RangeError);
    expect(() => secureRandomBytes(1.5)).toThrow(RangeError);
    expect(secureRandomBytes(0).length).toBe(0);
    expect(secureRandomBytes(4096).length).toBe(4096);
  });
});
