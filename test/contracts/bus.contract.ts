/**
 * The Bus contract (SPEC.md §B), run against every adapter by bus.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus/port.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Registers the contract tests for one adapter. */
export function busContract(name: string, create: () => Promise<Bus>): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    beforeEach(async () => {
      bus = await create();
    });
    afterEach(async () => {
      await bus.close();
    });

    const collect = () => {
      const got: string[] = [];
      return { got, handler: (d: Uint8Array, s: string) => got.push(`${s}:${dec(d)}`) };
    };

    it('[B1] delivers to every subscriber of a subject, in publish order', async () => {
      const a = collect();
      const b = collect();
      bus.subscribe('space.x.pulse', a.handler);
      bus.subscribe('space.x.pulse', b.handler);
      await bus.flush();
      for (let i = 0; i < 50; i++) bus.publish('space.x.pulse', enc(String(i)));
      await bus.flush();
      await until(() => a.got.length === 50 && b.got.length === 50);
      expect(a.got).toEqual(Array.from({ length: 50 }, (_, i) => `space.x.pulse:${i}`));
      expect(b.got).toEqual(a.got);
    });

    it('[B2] does not deliver other subjects; a `.>` wildcard receives everything below its prefix', async () => {
      const exact = collect();
      const wild = collect();
      bus.subscribe('space.x.pulse', exact.handler);
      bus.subscribe('space.>', wild.handler);
      await bus.flush();
      bus.publish('space.y.pulse', enc('1'));
      bus.publish('space.x.pulse', enc('2'));
      bus.publish('other.x', enc('3'));
      await bus.flush();
      await until(() => wild.got.length === 2 && exact.got.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(exact.got).toEqual(['space.x.pulse:2']);
      expect(wild.got).toEqual(['space.y.pulse:1', 'space.x.pulse:2']);
    });

    it('[B3] stops delivering after dispose', async () => {
      const a = collect();
      const sub = bus.subscribe('s.one', a.handler);
      await bus.flush();
      bus.publish('s.one', enc('1'));
      await bus.flush();
      await until(() => a.got.length === 1);
      sub.dispose();
      bus.publish('s.one', enc('2'));
      await bus.flush();
      await new Promise((r) => setTimeout(r, 50));
      expect(a.got).toEqual(['s.one:1']);
    });

    it('[B4] rejects malformed subjects', () => {
      expect(() => bus.publish('', enc('x'))).toThrow();
      expect(() => bus.publish('a..b', enc('x'))).toThrow();
      expect(() => bus.publish('a b', enc('x'))).toThrow();
    });

    it('[B5] a throwing handler does not stop delivery to others', async () => {
      const a = collect();
      bus.subscribe('s.two', () => {
        throw new Error('boom');
      });
      bus.subscribe('s.two', a.handler);
      await bus.flush();
      bus.publish('s.two', enc('ok'));
      await bus.flush();
      await until(() => a.got.length === 1);
      expect(a.got).toEqual(['s.two:ok']);
    });
  });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
