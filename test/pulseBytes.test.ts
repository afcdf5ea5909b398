/**
 * The plain-ws baseline's pulse size (bench/support/pulseBytes.ts): a padded pulse is exactly the
 * size asked for, still the same JSON with one `pad` field more, and its head still reads as a
 * pulse's to the load driver (pulseHeadSocket.ts); a pulse too large for the field is sent as it is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pulseHead } from '../bench/support/pulseHeadSocket.ts';
import { meanPulseBytes, padPulse } from '../bench/support/pulseBytes.ts';

const pulse = fc.record({
  t: fc.constant('pulse'),
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  at: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
  count: fc.nat({ max: 200_000 }),
  hist: fc.array(fc.nat({ max: 1000 }), { maxLength: 256 }),
});

describe('padPulse (plain-ws baseline)', () => {
  it('pads a pulse to exactly the size asked, the same fields and a pad, the head intact', () => {
    fc.assert(
      fc.property(pulse, fc.nat({ max: 4000 }), (p, extra) => {
        const json = JSON.stringify(p);
        const bytes = json.length + 9 + extra;
        const padded = padPulse(json, bytes);
        expect(padded).toHaveLength(bytes);
        const { pad, ...rest } = JSON.parse(padded) as { pad: string };
        expect(rest).toEqual(p);
        expect(pad).toBe('x'.repeat(extra));
        expect(JSON.parse(pulseHead(Buffer.from(padded)) as string)).toEqual({ t: 'pulse', seq: p.seq, at: p.at, count: p.count });
      }),
    );
  });

  it('leaves a pulse that is already as large (or too near for the field) unchanged', () => {
    fc.assert(
      fc.property(pulse, fc.integer({ min: 0, max: 8 }), fc.nat({ max: 1000 }), (p, short, over) => {
        const json = JSON.stringify(p);
        expect(padPulse(json, json.length + short)).toBe(json);
        expect(padPulse(json, json.length - over)).toBe(json);
      }),
    );
    expect(padPulse('{}', 100)).toBe('{}');
    expect(padPulse('[1,2]', 100)).toBe('[1,2]');
  });
});

describe('meanPulseBytes', () => {
  it('averages the client processes that saw pulses, and is 0 when none did', () => {
    expect(meanPulseBytes([{ pulseBytes: 1700 }, { pulseBytes: 0 }, { pulseBytes: 1702 }])).toBe(1701);
    expect(meanPulseBytes([{ pulseBytes: 0 }])).toBe(0);
    expect(meanPulseBytes([])).toBe(0);
  });
});
