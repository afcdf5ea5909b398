/**
 * The KvStore contract (SPEC K1), run against every adapter by kv.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KvStore } from '../../src/bus/port.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Registers the contract tests for one adapter. */
export function kvContract(name: string, create: () => Promise<KvStore>): void {
  describe(`KvStore contract: ${name}`, () => {
    let kv: KvStore;
    beforeEach(async () => {
      kv = await create();
    });
    afterEach(async () => {
      await kv.destroy();
      await kv.close();
    });

    it('[K1] get of a missing key is null; create writes only a missing key', async () => {
      expect(await kv.get('lease.a')).toBeNull();
      const r = await kv.create('lease.a', enc('one'));
      expect(r).toBeGreaterThan(0);
      expect(await kv.create('lease.a', enc('two'))).toBeNull();
      const e = await kv.get('lease.a');
      expect(e && dec(e.value)).toBe('one');
      expect(e?.revision).toBe(r);
    });

    it('[K1] update is compare-and-set on the revision; revisions increase', async () => {
      const r1 = (await kv.create('lease.b', enc('1'))) as number;
      const r2 = await kv.update('lease.b', enc('2'), r1);
      expect(r2).toBeGreaterThan(r1);
      // A writer holding the old revision loses.
      expect(await kv.update('lease.b', enc('x'), r1)).toBeNull();
      const e = await kv.get('lease.b');
      expect(e && dec(e.value)).toBe('2');
      expect(e?.revision).toBe(r2);
      // Two racing updates from one revision: exactly one wins.
      const race = await Promise.all([kv.update('lease.b', enc('p'), r2 as number), kv.update('lease.b', enc('q'), r2 as number)]);
      expect(race.filter((x) => x !== null)).toHaveLength(1);
    });

    it('[K1] update of a missing key fails; keys are independent', async () => {
      expect(await kv.update('lease.none', enc('v'), 1)).toBeNull();
      await kv.create('slot.0', enc('n1'));
      await kv.create('slot.1', enc('n2'));
      expect(dec((await kv.get('slot.0'))?.value ?? new Uint8Array())).toBe('n1');
      expect(dec((await kv.get('slot.1'))?.value ?? new Uint8Array())).toBe('n2');
    });

    it('[K1] rejects malformed keys', async () => {
      await expect(kv.get('a b')).rejects.toThrow();
      await expect(kv.create('a..b', enc('v'))).rejects.toThrow();
    });
  });
}
