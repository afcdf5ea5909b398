import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeEntry, encodeEntry, participantCommitment, validateEntry } from './entry.ts';

const steward = participantCommitment(new Uint8Array(32).fill(1), 'steward-1');
const base = { v: 1 as const, type: 'space.created', space: 'sp_1', time: 1_700_000_000_000, payload: { name: 'Retro', capacity: 50, ttlMs: 120000, steward } };

describe('[L6] canonical entry encoding', () => {
  it('sorts keys by UTF-16 code units at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [true, null], c: 'x' }, A: 2, é: 3 })).toBe('{"A":2,"a":{"c":"x","d":[true,null]},"b":1,"é":3}');
  });
  it('encodes the top level in a fixed order', () => {
    const text = new TextDecoder().decode(encodeEntry(base));
    expect(text).toBe(`{"payload":{"capacity":50,"name":"Retro","steward":"${steward}","ttlMs":120000},"space":"sp_1","time":1700000000000,"type":"space.created","v":1}`);
  });
  it('writes numbers in ECMAScript shortest form and rejects -0, NaN and Infinity', () => {
    expect(canonicalJson({ x: 1e21, y: 0.1, z: 100 })).toBe('{"x":1e+21,"y":0.1,"z":100}');
    expect(() => canonicalJson(-0)).toThrow(RangeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(RangeError);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
  it('escapes strings like JSON.stringify and rejects lone surrogates', () => {
    expect(canonicalJson('a"\\\n\u0001é😀')).toBe('"a\\"\\\\\\n\\u0001é😀"');
    expect(() => canonicalJson('\ud800')).toThrow(RangeError);
  });
  it('round-trips, and decoding rejects anything but the canonical bytes', () => {
    const bytes = encodeEntry(base);
    expect(decodeEntry(bytes)).toEqual({ ok: true, value: base });
    const spaced = new TextEncoder().encode(new TextDecoder().decode(bytes).replace(':', ': '));
    expect(decodeEntry(spaced).ok).toBe(false);
    const reordered = new TextEncoder().encode(`{"v":1,"type":"space.closed","time":1,"space":null,"payload":{}}`);
    expect(decodeEntry(reordered).ok).toBe(false);
    expect(decodeEntry(Uint8Array.of(0xff)).ok).toBe(false);
  });
  it('checks required payload fields of known types, and accepts future types', () => {
    expect(validateEntry({ ...base, payload: {} }).ok).toBe(false);
    expect(validateEntry({ ...base, type: 'steward.changed', payload: { reason: 'rotated', from: steward, to: steward } }).ok).toBe(true);
    expect(validateEntry({ ...base, type: 'steward.changed', payload: { from: steward } }).ok).toBe(false);
    expect(validateEntry({ ...base, type: 'policy.adopted', payload: { policy: 'p1', threshold: 0.5 } }).ok).toBe(true);
    expect(validateEntry({ ...base, type: 'Bad Type' }).ok).toBe(false);
    expect(validateEntry({ ...base, time: 1.5 }).ok).toBe(false);
  });
});

describe('[L7] nothing that identifies a person or a feeling reaches the log', () => {
  it('rejects emotion fields anywhere in the payload', () => {
    expect(validateEntry({ ...base, payload: { ...base.payload, stats: [{ valence: 0.3 }] } }).ok).toBe(false);
    expect(validateEntry({ ...base, payload: { ...base.payload, Emotion: 'joy' } }).ok).toBe(false);
  });
  it('requires persons to be referred to by salted commitments', () => {
    expect(validateEntry({ ...base, payload: { ...base.payload, steward: 'alice' } }).ok).toBe(false);
    expect(validateEntry({ ...base, type: 'vote.cast', payload: { voter: 'p_123' } }).ok).toBe(false);
    expect(validateEntry({ ...base, type: 'vote.cast', payload: { voters: [steward, steward] } }).ok).toBe(true);
  });
  it('commitments depend on the salt: a different (or erased) salt gives an unlinkable value', () => {
    const a = participantCommitment(new Uint8Array(32).fill(1), 'p1');
    const b = participantCommitment(new Uint8Array(32).fill(2), 'p1');
    expect(a).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
    expect(participantCommitment(new Uint8Array(32).fill(1), 'p1')).toBe(a);
  });
});
