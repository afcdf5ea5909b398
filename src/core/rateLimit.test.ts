import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rateLimit.ts';

describe('TokenBucket', () => {
  it('[W6] lets a burst through, then the refill rate', () => {
    const b = new TokenBucket(10, 5, 0);
    let passed = 0;
    for (let i = 0; i < 20; i++) if (b.take(0)) passed++;
    expect(passed).toBe(5);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
  });

  it('[W6] never passes more than burst + rate·t over any run (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 500 }), (gaps) => {
        const b = new TokenBucket(20, 10, 0);
        let t = 0;
        let passed = 0;
        for (const g of gaps) {
          t += g;
          if (b.take(t)) passed++;
        }
        expect(passed).toBeLessThanOrEqual(10 + Math.floor((20 * t) / 1000) + 1);
      }),
      { seed: 7 },
    );
  });
});

describe('KeyedBuckets', () => {
  it('[W13] limits each key on its own and forgets idle keys', async () => {
    const { KeyedBuckets } = await import('./rateLimit.ts');
    const k = new KeyedBuckets(1, 3);
    for (let i = 0; i < 3; i++) expect(k.take('a', 0)).toBe(true);
    expect(k.take('a', 0)).toBe(false);
    expect(k.allows('a', 0)).toBe(false);
    expect(k.take('b', 0)).toBe(true);
    expect(k.allows('a', 1000)).toBe(true);
    expect(k.size).toBe(2);
    k.take('c', 120_000); // a sweep: a and b have refilled and are forgotten
    expect(k.size).toBe(1);
  });
});

describe('KeyedBuckets bounds and refunds', () => {
  it('[H1] never holds more than maxKeys keys (least recently used go first)', async () => {
    const { KeyedBuckets } = await import('./rateLimit.ts');
    const k = new KeyedBuckets(1 / 3600, 1, 100);
    for (let i = 0; i < 10_000; i++) k.take(`10.0.${i >> 8}.${i & 255}`, i);
    expect(k.size).toBe(100);
    k.take('keep', 10_000);
    for (let i = 0; i < 99; i++) k.take(`x${i}`, 10_001);
    expect(k.allows('keep', 10_002)).toBe(false); // still tracked: it was used recently
  });

  it('[H1] a refunded token can be taken again; msUntilToken says when the next one comes', async () => {
    const { KeyedBuckets } = await import('./rateLimit.ts');
    const k = new KeyedBuckets(60 / 3600, 2);
    expect(k.take('a', 0)).toBe(true);
    expect(k.take('a', 0)).toBe(true);
    expect(k.take('a', 0)).toBe(false);
    expect(k.msUntilToken('a', 0)).toBe(60_000);
    k.refund('a', 0);
    expect(k.msUntilToken('a', 0)).toBe(0);
    expect(k.take('a', 0)).toBe(true);
    expect(k.msUntilToken('nobody', 0)).toBe(0);
  });
});
