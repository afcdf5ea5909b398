import { describe, expect, it } from 'vitest';
import { createTextAnalyzer } from './analyzeText.ts';
import { sharedMaterial } from '../../../test/support/shared.ts';
import { readEmoBank } from './emobank.ts';
import { DENSE_COUNT, type FeatureConfig } from './features.ts';
import { decodeModel, encodeModel } from './model.ts';
import { trainTextModel } from './trainTextModel.ts';
import { fnvString } from './hash.ts';
import { induceWordTable } from './wordTable.ts';

/** A tiny stand-in for GloVe: 4-d vectors whose first axis is a sentiment direction. */
function tinyGloVe() {
  const words = ['the', 'a', 'good', 'great', 'happy', 'bad', 'awful', 'sad', 'table', 'chair', 'wonderful', 'terrible'];
  const polarity = [0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 1, -1];
  const dim = 4;
  const vectors = new Float32Array(words.length * dim);
  words.forEach((_, i) => {
    vectors[i * dim] = polarity[i] as number;
    for (let k = 1; k < dim; k++) vectors[i * dim + k] = Math.sin(i * 7 + k);
  });
  return { hashes: Uint32Array.from(words, fnvString), vectors, dim };
}

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

/** Fast training settings shared by these tests. */
function smallTraining(rows: ReturnType<typeof readEmoBank>) {
  return {
    rows,
    features: small,
    lambda: { valence: 1, arousal: 3 },
    densePenalty: 0.01,
    augment: { weight: 0.3, scale: 0.4 },
    maxIter: 60,
    seed: 7,
  } as const;
}

const emobank = sharedMaterial('emobank');
/** EmoBank train rows [from, to), or none when the shared data is missing (those tests skip). */
const trainRows = (from: number, to: number) => (emobank.present ? readEmoBank('train', emobank.dir).slice(from, to) : []);

describe.skipIf(!emobank.present)('trainTextModel', () => {
  const rows = trainRows(0, 400);
  const opts = smallTraining(rows);

  it('is deterministic: the same slice and seed give byte-identical models', () => {
    const a = trainTextModel(opts);
    const b = trainTextModel(opts);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(a.pseudoRows).toBeGreaterThan(7000);
  });

  it('learns something: a model from 400 rows is positively correlated on held-out rows', () => {
    const m = trainTextModel(opts);
    const analyse = createTextAnalyzer(m.model);
    const held = trainRows(400, 800);
    const xs = held.map((r) => analyse(r.text).valence);
    const ys = held.map((r) => r.v);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    const mx = mean(xs);
    const my = mean(ys);
    const cov = xs.reduce((s, x, i) => s + (x - mx) * ((ys[i] as number) - my), 0);
    expect(cov).toBeGreaterThan(0);
  });
});

describe.skipIf(!emobank.present)('trainTextModel with a word table and 16-bit weights', () => {
  const rows = trainRows(0, 300);
  const table = induceWordTable(tinyGloVe(), { lambda: 1, neutral: 4, poolSkip: 2 });
  const opts = {
    ...smallTraining(rows),
    table,
    quantise: true,
    boost: { trees: 5, depth: 2, learningRate: 0.1, minLeaf: 20, folds: 3 },
  } as const;

  it('induces positive scores for positive words and negative for negative ones', () => {
    const at = (w: string) => table.score[table.hashes.indexOf(fnvString(w))] as number;
    expect(at('wonderful')).toBeGreaterThan(0);
    expect(at('terrible')).toBeLessThan(0);
  });

  it('is deterministic, carries the table (not the vectors) and predicts finite values', () => {
    const a = trainTextModel(opts);
    const b = trainTextModel(opts);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const m = decodeModel(a.bytes);
    expect(m.header.wordTable).toMatchObject({ words: 12, poolSkip: 2 });
    expect(m.table?.hashes.length).toBe(12);
    expect(m.table?.valence?.length).toBe(12);
    expect(m.table?.vectors).toBeUndefined();
    expect(m.header.tensors.valence?.dtype).toBe('i16');
    expect(m.boost?.trees).toBe(5);
    expect(m.boost?.leaf.length).toBe(5 * 4);
    const analyse = createTextAnalyzer(m);
    for (const t of ['wonderful table', 'terrible chair', 'the a', 'zzz']) {
      const r = analyse(t);
      expect(Number.isFinite(r.valence) && Number.isFinite(r.arousal)).toBe(true);
    }
  });

  it('stores 16-bit weights within half a step of the float weights, and dense weights exactly', () => {
    const f = trainTextModel({ ...opts, quantise: false });
    const q = trainTextModel(opts);
    const step = q.model.header.scales?.valence ?? 0;
    expect(step).toBeGreaterThan(0);
    for (let j = 0; j < DENSE_COUNT; j++) expect(q.model.valence[j]).toBe(f.model.valence[j]);
    let worst = 0;
    for (let j = DENSE_COUNT; j < f.model.valence.length; j++) worst = Math.max(worst, Math.abs((q.model.valence[j] as number) - (f.model.valence[j] as number)));
    expect(worst).toBeLessThanOrEqual(step * 0.5 + 1e-7);
  });
});

describe('model artifact', () => {
  it('round-trips through encode/decode, also from an unaligned Node Buffer view', () => {
    const bits = 4;
    const dim = DENSE_COUNT + (1 << bits);
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
