import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundThreadGarbage, GARBAGE_BOUND_BYTES, GarbageBound } from './threadGarbage.ts';

const MiB = 1024 * 1024;
/** One turn of the event loop (setImmediate callbacks queued before it have run). */
const turn = () => new Promise<void>((r) => setImmediate(r));

describe('the writer thread’s garbage bound', () => {
  it('is due exactly when the heap grew by the bound since the last collection', () => {
    fc.assert(
      fc.property(fc.nat(1 << 30), fc.integer({ min: 1, max: 1 << 28 }), fc.nat(1 << 30), fc.nat(1 << 30), (base, bound, used, after) => {
        const b = new GarbageBound(base, bound);
        expect(b.due(used)).toBe(used - base >= bound);
        b.collected(after);
        expect(b.due(after + bound - 1)).toBe(false);
        expect(b.due(after + bound)).toBe(true);
      }),
    );
  });

  it('collects on the next turn, not inside the message that passed the bound (its group is still referenced there), once per passing', async () => {
    let used = 10 * MiB;
    let collections = 0;
    const afterMessage = boundThreadGarbage(
      () => {
        collections++;
        used = 11 * MiB;
      },
      () => used,
    );
    used = 10 * MiB + GARBAGE_BOUND_BYTES - 1;
    afterMessage();
    await turn();
    expect(collections).toBe(0);
    used = 10 * MiB + GARBAGE_BOUND_BYTES;
    afterMessage();
    afterMessage();
    expect(collections).toBe(0);
    await turn();
    expect(collections).toBe(1);
    // The bound starts over from what the collection left (11 MiB).
    used = 11 * MiB + GARBAGE_BOUND_BYTES - 1;
    afterMessage();
    await turn();
    expect(collections).toBe(1);
    used = 11 * MiB + GARBAGE_BOUND_BYTES;
    afterMessage();
    await turn();
    expect(collections).toBe(2);
  });

  it('without a collector (Node refused the flag) does nothing', async () => {
    const afterMessage = boundThreadGarbage(null, () => Number.MAX_SAFE_INTEGER);
    expect(() => afterMessage()).not.toThrow();
    await turn();
  });

  it('threadCollector, in a thread of a process without --expose-gc, frees the thread’s garbage and leaves no gc in contexts made afterwards', async () => {
    const module = new URL('./threadGarbage.ts', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { runInNewContext } = require('node:vm');
      import(${JSON.stringify(module)}).then(({ threadCollector, heapUsed }) => {
        const before = typeof globalThis.gc;
        const gc = threadCollector();
        let junk = [];
        for (let i = 0; i < 200000; i++) junk.push({ i, s: 'x' + i });
        junk = null;
        const full = heapUsed();
        gc();
        parentPort.postMessage({ before, got: typeof gc, freed: full - heapUsed(), later: runInNewContext('typeof gc') });
      });`;
    const w = new Worker(code, { eval: true, execArgv: [] });
    const r = await new Promise<{ before: string; got: string; freed: number; later: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(r.before).toBe('undefined');
    expect(r.got).toBe('function');
    // 200,000 objects and strings: ≈ 10 MiB of garbage.
    expect(r.freed).toBeGreaterThan(5 * MiB);
    expect(r.later).toBe('undefined');
  });
});
