/**
 * Builds the training design matrix from texts with a {@link FeatureExtractor}, standardising
 * the dense columns with statistics taken from the training rows only. With a word table that
 * carries vectors, each row also gets the mean vector of its table words as `dim` further
 * columns after the hashed buckets (standardised the same way).
 */
import { DENSE_COUNT, FeatureExtractor, type FeatureConfig } from './features.ts';
import type { SparseMatrix } from './ridge.ts';
import type { WordTable } from './wordTable.ts';

/** A design matrix plus the dense-column standardisation used to build it. */
export interface Design {
  readonly X: SparseMatrix;
  /** Dense-column means (training rows). */
  readonly denseMean: Float64Array;
  /** Dense-column standard deviations (1 where a column is constant). */
  readonly denseStd: Float64Array;
  /** Raw (unstandardised) dense features, row-major `rows × DENSE_COUNT`. */
  readonly denseRaw: Float64Array;
  /** Mean-vector column means (empty without a table with vectors). */
  readonly vecMean: Float64Array;
  /** Mean-vector column standard deviations. */
  readonly vecStd: Float64Array;
}

/** Options for {@link buildDesign}. */
export interface DesignOptions {
  readonly config: FeatureConfig;
  readonly texts: readonly string[];
  /** Reuse these statistics (for dev/test rows); computed from `texts` when absent. */
  readonly standardise?: { readonly mean: Float64Array; readonly std: Float64Array; readonly vecMean?: Float64Array; readonly vecStd?: Float64Array };
  /** Word table for the `glove.*` features and, if it has vectors, the mean-vector columns. */
  readonly table?: WordTable;
}

function columnStats(data: Float64Array, n: number, k: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(k);
  const std = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) mean[j] = (mean[j] as number) + (data[r * k + j] as number) / n;
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const d = (data[r * k + j] as number) - (mean[j] as number);
      std[j] = (std[j] as number) + (d * d) / n;
    }
  }
  for (let j = 0; j < k; j++) std[j] = Math.sqrt(std[j] as number) || 1;
  return { mean, std };
}

/** Extracts every text's features into a CSR matrix (dense slots first, then hashed buckets). */
export function buildDesign(opts: DesignOptions): Design {
  const fx = new FeatureExtractor(opts.config, opts.table);
  const n = opts.texts.length;
  const dense = new Float64Array(n * DENSE_COUNT);
  const vecs = opts.table?.vectors;
  const dim = vecs ? (opts.table?.dim ?? 0) : 0;
  const meanVec = new Float64Array(n * dim);
  // End of each row's hashed entries in idx/val.
  const hashedEnd = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < n; r++) {
    fx.extract(opts.texts[r] as string);
    dense.set(fx.dense, r * DENSE_COUNT);
    if (vecs && fx.tableCount > 0) {
      for (let t = 0; t < fx.tableCount; t++) {
        const row = fx.tableRows[t] as number;
        for (let k = 0; k < dim; k++) meanVec[r * dim + k] = (meanVec[r * dim + k] as number) + (vecs[row * dim + k] as number);
      }
      for (let k = 0; k < dim; k++) meanVec[r * dim + k] = (meanVec[r * dim + k] as number) / fx.tableCount;
    }
    // Merge duplicate buckets so each row has unique columns (keeps the CG exact and fast).
    const m = new Map<number, number>();
    for (let k = 0; k < fx.count; k++) {
      const j = fx.index[k] as number;
      m.set(j, (m.get(j) ?? 0) + (fx.value[k] as number));
    }
    for (const [j, v] of [...m.entries()].sort((a, b) => a[0] - b[0])) {
      idx.push(j);
      val.push(v);
    }
    hashedEnd[r + 1] = idx.length;
  }
  let mean: Float64Array;
  let std: Float64Array;
  let vecMean: Float64Array;
  let vecStd: Float64Array;
  if (opts.standardise) {
    mean = opts.standardise.mean;
    std = opts.standardise.std;
    vecMean = opts.standardise.vecMean ?? new Float64Array(dim);
    vecStd = opts.standardise.vecStd ?? new Float64Array(dim).fill(1);
  } else {
    ({ mean, std } = columnStats(dense, n, DENSE_COUNT));
    ({ mean: vecMean, std: vecStd } = columnStats(meanVec, n, dim));
  }
  // Interleave: each row = dense block (if on) then its hashed entries.
  const withDense = opts.config.lexicon;
  const total = idx.length + (withDense ? n * DENSE_COUNT : 0) + n * dim;
  const index = new Int32Array(total);
  const value = new Float64Array(total);
  let k = 0;
  const ptr = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) {
    ptr[r] = k;
    if (withDense) {
      for (let j = 0; j < DENSE_COUNT; j++) {
        index[k] = j;
        value[k] = ((dense[r * DENSE_COUNT + j] as number) - (mean[j] as number)) / (std[j] as number);
        k++;
      }
    }
    for (let s = hashedEnd[r] as number; s < (hashedEnd[r + 1] as number); s++) {
      index[k] = idx[s] as number;
      value[k] = val[s] as number;
      k++;
    }
    for (let j = 0; j < dim; j++) {
      index[k] = fx.dimension + j;
      value[k] = ((meanVec[r * dim + j] as number) - (vecMean[j] as number)) / (vecStd[j] as number);
      k++;
    }
  }
  ptr[n] = k;
  return { X: { rows: n, cols: fx.dimension + dim, rowPtr: ptr, index, value }, denseMean: mean, denseStd: std, denseRaw: dense, vecMean, vecStd };
}
