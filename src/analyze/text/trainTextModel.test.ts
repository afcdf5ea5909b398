import { describe, expect, it } from 'vitest';
import { createTextAnalyzer } from './analyzeText.ts';
import { readEmoBank } from './emobank.ts';
import type { FeatureConfig } from './features.ts';
import { decodeModel, encodeModel } from './model.ts';
import { trainTextModel } from './trainTextModel.ts';

const small: FeatureConfig = {
  bits: 14,
  words: true,
  bigrams: true,
  charMin: 3,
  charMax: 4,
  negation: true,
  intensifiers: true,
  lexicon: true,
  wordScale: 1,
  bigramScale: 1,
  charScale: 1,
};

describe('trainTextModel', () => {
  const rows = readEmoBank('train').slice(0, 400);
  const opts = {
    rows,
    features: small,
    lambda: { valence: 1, arousal: 3 },
    densePenalty: 0.01,
    augment: { weight: 0.3, scale: 0.4 },
    maxIter: 60,
    seed: 7,
  } as const;

  it('is deterministic: the same slice and seed give byte-identical models', () => {
    const a = trainTextModel(opts);
    const b = trainTextModel(opts);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.pseudoRows).toBeGreaterThan(7000);
  });

  it('learns something: a model from 400 rows is positively correlated on held-out rows', () => {
    const m = trainTextModel(opts);
    const analyse = createTextAnalyzer(m.model);
    const held = readEmoBank('train').slice(400, 800);
    const xs = held.map((r) => analyse(r.text).valence);
    const ys = held.map((r) => r.v);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const mx = mean(xs);
    const my = mean(ys);
    const cov = xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0);
    expect(cov).toBeGreaterThan(0);
  });
});

describe('model artifact', () => {
  it('round-trips through encode/decode, also from an unaligned Node Buffer view', () => {
    const bits = 4;
    const dim = 15 + (1 << bits);
    const v = Float32Array.from({ length: dim }, (_, i) => i / 7);
    const a = Float32Array.from({ length: dim }, (_, i) => -i);
    const known = Uint32Array.from([1, 2, 3]);
    const bytes = encodeModel({ format: 'attune-text-model', version: 1, features: { ...small, bits }, bias: { valence: 3, arousal: 2.5 } }, { valence: v, arousal: a, known });
    const pooled = Buffer.alloc(bytes.length + 3);
    pooled.set(bytes, 3);
    const m = decodeModel(pooled.subarray(3));
    expect([...m.valence]).toEqual([...v]);
    expect([...m.arousal]).toEqual([...a]);
    expect([...m.known]).toEqual([1, 2, 3]);
    expect(m.header.bias).toEqual({ valence: 3, arousal: 2.5 });
    expect(() => decodeModel(new Uint8Array(16))).toThrow(/magic/);
  });
});
