import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHeartRateMeasurement, isPlausibleBpm, parseHeartRateMeasurement } from './heartRateMeasurement.ts';

const parse = (bytes: number[]) => parseHeartRateMeasurement(Uint8Array.from(bytes));
const value = (bytes: number[]) => {
  const r = parse(bytes);
  if (!r.ok) throw new Error(`expected a measurement, got ${r.problem}`);
  return r.value;
};

// Frames built field by field from GATT Specification Supplement v8 §3.113 (flags §3.113.1).
describe('Heart Rate Measurement 0x2A37 — specification frames', () => {
  it('flags 0x00: uint8 heart rate, contact not supported, nothing else', () => {
    expect(value([0x00, 0x48])).toEqual({ bpm: 72, wide: false, contact: 'unsupported', rrRaw: [], rrMs: [] });
  });

  it('flags 0x01: uint16 heart rate, little-endian', () => {
    expect(value([0x01, 0x3c, 0x00]).bpm).toBe(60);
    expect(value([0x01, 0x2c, 0x01]).bpm).toBe(300); // 0x012C: parsed as sent, judged implausible above
  });

  it('flags bits 1–2: 0b00 and 0b01 not supported, 0b10 supported but lost, 0b11 detected', () => {
    expect(value([0x00, 60]).contact).toBe('unsupported');
    expect(value([0x02, 60]).contact).toBe('unsupported'); // bit 1 without bit 2 means nothing
    expect(value([0x04, 0]).contact).toBe('lost');
    expect(value([0x06, 90]).contact).toBe('detected');
  });

  it('flags 0x1E: contact, energy expended (kJ) and two RR intervals in 1/1024 s', () => {
    const m = value([0x1e, 0x48, 0x10, 0x27, 0x00, 0x04, 0x00, 0x03]);
    expect(m).toEqual({ bpm: 72, wide: false, contact: 'detected', energyKj: 10_000, rrRaw: [1024, 768], rrMs: [1000, 750] });
  });

  it('flags 0x1F: uint16 heart rate with energy at its ceiling and one RR', () => {
    const m = value([0x1f, 0x2c, 0x01, 0xff, 0xff, 0x00, 0x02]);
    expect(m.bpm).toBe(300);
    expect(m.energyKj).toBe(65_535);
    expect(m.rrMs).toEqual([500]);
  });

  it('reserved bits 5–7 are ignored', () => {
    expect(value([0xf0, 60, 0x00, 0x04])).toEqual(value([0x10, 60, 0x00, 0x04]));
  });
});

describe('Heart Rate Measurement — hostile frames', () => {
  it('names what is wrong instead of throwing', () => {
    expect(parse([])).toEqual({ ok: false, problem: 'empty' });
    expect(parse([0x00])).toEqual({ ok: false, problem: 'truncated-heart-rate' });
    expect(parse([0x01, 0x48])).toEqual({ ok: false, problem: 'truncated-heart-rate' });
    expect(parse([0x08, 0x48, 0x10])).toEqual({ ok: false, problem: 'truncated-energy' });
    expect(parse([0x10, 0x48, 0x00, 0x04, 0x00])).toEqual({ ok: false, problem: 'odd-rr-bytes' });
    expect(parse([0x10, 0x48])).toEqual({ ok: false, problem: 'rr-flag-without-intervals' });
    expect(parse([0x00, 0x48, 0x00])).toEqual({ ok: false, problem: 'trailing-bytes' });
  });

  it('0 bpm with contact lost and 300 bpm are parsed as sent and judged implausible', () => {
    expect(value([0x04, 0x00])).toMatchObject({ bpm: 0, contact: 'lost' });
    expect(isPlausibleBpm(0)).toBe(false);
    expect(isPlausibleBpm(value([0x01, 0x2c, 0x01]).bpm)).toBe(false);
    expect(isPlausibleBpm(72)).toBe(true);
  });

  it('reads a DataView over part of a larger buffer (as Web Bluetooth may hand it)', () => {
    const buf = Uint8Array.from([0xaa, 0xaa, 0x10, 60, 0x00, 0x04, 0xbb]);
    const r = parseHeartRateMeasurement(new DataView(buf.buffer, 2, 4));
    expect(r).toEqual({ ok: true, value: { bpm: 60, wide: false, contact: 'unsupported', rrRaw: [1024], rrMs: [1000] } });
  });

  it('never throws on arbitrary bytes; a success accounts for every byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const r = parseHeartRateMeasurement(bytes);
        if (!r.ok) return;
        const f = bytes[0] as number;
        const expected = 1 + (f & 1 ? 2 : 1) + (f & 8 ? 2 : 0) + (f & 0x10 ? 2 * r.value.rrRaw.length : 0);
        expect(expected).toBe(bytes.length);
        expect(r.value.rrMs).toHaveLength(r.value.rrRaw.length);
      }),
      { seed: 18 },
    );
  });

  it('encode then parse gives back the fields', () => {
    fc.assert(
      fc.property(
        fc.record({
          bpm: fc.integer({ min: 0, max: 0xffff }),
          wide: fc.boolean(),
          contact: fc.constantFrom('unsupported' as const, 'lost' as const, 'detected' as const),
          energyKj: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
          rrRaw: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 9 }),
        }),
        (f) => {
          const r = parseHeartRateMeasurement(encodeHeartRateMeasurement(f));
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.value.bpm).toBe(f.bpm);
          expect(r.value.wide).toBe(f.wide || f.bpm > 255);
          expect(r.value.contact).toBe(f.contact);
          expect(r.value.energyKj).toBe(f.energyKj);
          expect(r.value.rrRaw).toEqual(f.rrRaw);
        },
      ),
      { seed: 18 },
    );
  });
});
