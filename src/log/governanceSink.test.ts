import { describe, expect, it } from 'vitest';
import { MemoryLogStore } from '../storage/memory/memoryLogStore.ts';
import { decodeEntry } from './entry.ts';
import { governanceSink } from './governanceSink.ts';
import { signerFromSeed } from './note.ts';
import { TransparencyLog } from './transparencyLog.ts';

describe('[L7] governance acts reach the log', () => {
  it('records the acts the space service reports, canonically', async () => {
    const log = await TransparencyLog.open({ store: new MemoryLogStore(), signer: signerFromSeed('g.test/log', new Uint8Array(32)) });
    const sink = governanceSink(log);
    await sink.record({ type: 'space.created', space: 'sp1', at: 1000.7, payload: { name: 'Retro', capacity: 50, ttlMs: 120_000 } });
    await sink.record({ type: 'steward.changed', space: 'sp1', at: 2000, payload: { reason: 'rotated' } });
    await sink.record({ type: 'space.closed', space: 'sp1', at: 3000, payload: {} });
    const entries = (await log.readEntries(0, 3)).map((e) => decodeEntry(e));
    expect(entries.map((e) => (e.ok ? [e.value.type, e.value.time] : e.message))).toEqual([
      ['space.created', 1000],
      ['steward.changed', 2000],
      ['space.closed', 3000],
    ]);
    await expect(sink.record({ type: 'space.created', space: 'sp1', at: 1, payload: { name: 'x', capacity: 1, ttlMs: 1, valence: 0.2 } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(sink.record({ type: 'space.closed', space: 'sp1', at: 1, payload: { when: new Date() } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(log.size).toBe(3);
  });
});
