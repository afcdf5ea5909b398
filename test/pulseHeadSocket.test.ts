/**
 * The load driver's pulse-head reader (bench/support/pulseHeadSocket.ts): on every pulse the
 * encoders write it gives exactly the fields a full parse gives (t, seq, at, count), and on
 * anything else — another message, a truncated or reordered pulse — it gives null, so the
 * client's own parser decides and a malformed pulse is not counted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pulseHead } from '../bench/support/pulseHeadSocket.ts';
import { parseServerFrame } from '../src/client/attuneClient.ts';

const pulse = fc.record({
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  at: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  count: fc.nat({ max: 200_000 }),
  suppressed: fc.boolean(),
  hist: fc.array(fc.nat({ max: 1000 }), { maxLength: 64 }),
  mean: fc.option(fc.record({ valence: fc.double({ min: -1, max: 1, noNaN: true }), arousal: fc.double({ min: -1, max: 1, noNaN: true }) })),
});

describe('pulseHead (load driver)', () => {
  it('reads t, seq, at and count of any pulse as a full parse does', () => {
    fc.assert(
      fc.property(pulse, (p) => {
        // The field order of machine.ts / release.ts (and of the plain-ws baseline).
        const json = JSON.stringify({ t: 'pulse', seq: p.seq, at: p.at, count: p.count, suppressed: p.suppressed, minCohort: 3, mean: p.mean, bins: 8, hist: p.hist });
        const head = pulseHead(Buffer.from(json));
        expect(head).not.toBeNull();
        const full = JSON.parse(json) as { t: string; seq: number; at: number; count: number };
        expect(JSON.parse(head as string)).toEqual({ t: full.t, seq: full.seq, at: full.at, count: full.count });
        expect(parseServerFrame(head)).toEqual({ t: 'pulse', seq: p.seq, at: p.at, count: p.count });
      }),
    );
  });

  it('gives null for what is not a whole pulse in that order, so the client parses it itself', () => {
    const ok = '{"t":"pulse","seq":12,"at":1700000000000,"count":4,"bins":8,"hist":[1,2]}';
    expect(pulseHead(Buffer.from(ok))).toBe('{"t":"pulse","seq":12,"at":1700000000000,"count":4}');
    for (const bad of [
      ok.slice(0, -1), // truncated
      '{"t":"pulse","at":1700000000000,"seq":12,"count":4,"bins":8}', // another order
      '{"t":"pulse","seq":-1,"at":1700000000000,"count":4,"bins":8}',
      '{"t":"pulse","seq":1.5,"at":1700000000000,"count":4,"bins":8}',
      '{"t":"pulse","seq":12,"at":1700000000000,"count":4x,"bins":8}',
      '{"t":"ack","seq":12,"affect":{"valence":0,"arousal":0,"at":1}}',
      '{"t":"pulse","seq":12}',
    ])
      expect(pulseHead(Buffer.from(bad)), bad).toBeNull();
  });
});
