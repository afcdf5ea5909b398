import { describe, expect, it } from 'vitest';
import { newParticipantKey, seal, unseal } from './sealing.ts';

describe('[S16] sealing of stored inputs', () => {
  it('opens only under the same key and participant, and not once tampered with', () => {
    const key = newParticipantKey();
    const sealed = seal(key, 'p1', '{"v":0.5}');
    expect(unseal(key, 'p1', sealed)).toBe('{"v":0.5}');
    expect(unseal(key, 'p2', sealed)).toBeNull();
    expect(unseal(newParticipantKey(), 'p1', sealed)).toBeNull();
    const b = Buffer.from(sealed, 'base64');
    b[b.length - 1] = (b[b.length - 1] as number) ^ 1;
    expect(unseal(key, 'p1', b.toString('base64'))).toBeNull();
  });

  it('never reuses an IV, across the pool refills too', () => {
    const key = newParticipantKey();
    const ivs = new Set<string>();
    for (let i = 0; i < 2000; i++) ivs.add(Buffer.from(seal(key, 'p', 'x'), 'base64').subarray(0, 12).toString('hex'));
    expect(ivs.size).toBe(2000);
  });

  it('the key is its bytes: a copy of the array opens what the original sealed', () => {
    // The KeyObject cache is keyed on the array object; a value read back from the database is a new array.
    const key = newParticipantKey();
    const sealed = seal(key, 'p', 'x');
    const copy = new Uint8Array(key);
    expect(unseal(copy, 'p', sealed)).toBe('x');
  });
});
