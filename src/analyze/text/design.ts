/**
 * Builds the training design matrix from texts with a {@link FeatureExtractor}, standardising
 * the dense columns with statistics taken from the training rows only.
 */
import { DENSE_COUNT, FeatureExtractor, type FeatureConfig } from './features.ts';
import type { SparseMatrix } from './ridge.ts';

/** A design matrix plus the dense-column standardisation used to build it. */
export interface Design {
  readonly X: SparseMatrix;
  /** Dense-column means (training rows). */
  readonly denseMean: Float64Array;
  /** Dense-column standard deviations (1 where a column is constant). */
  readonly denseStd: Float64Array;
}

/** Options for {@link buildDesign}. */
export interface DesignOptions {
  readonly config: FeatureConfig;
  readonly texts: readonly string[];
  /** Reuse these statistics (for dev/test rows); computed from `texts` when absent. */
  readonly standardise?: { readonly mean: Float64Array; readonly std: Float64Array };
}

/** Extracts every text's features into a CSR matrix (dense slots first, then hashed buckets). */
export function buildDesign(opts: DesignOptions): Design {
  const fx = new FeatureExtractor(opts.config);
  const n = opts.texts.length;
  const dense = new Float64Array(n * DENSE_COUNT);
  // End of each row's hashed entries in idx/val.
  const hashedEnd = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < n; r++) {
    fx.extract(opts.texts[r] as string);
    dense.set(fx.dense, r * DENSE_COUNT);
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
  if (opts.standardise) {
    mean = opts.standardise.mean;
    std = opts.standardise.std;
  } else {
    mean = new Float64Array(DENSE_COUNT);
    std = new Float64Array(DENSE_COUNT);
    for (let r = 0; r < n; r++) for (let j = 0; j < DENSE_COUNT; j++) mean[j] = (mean[j] as number) + (dense[r * DENSE_COUNT + j] as number) / n;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < DENSE_COUNT; j++) {
        const d = (dense[r * DENSE_COUNT + j] as number) - (mean[j] as number);
        std[j] = (std[j] as number) + (d * d) / n;
      }
    }
    for (let j = 0; j < DENSE_COUNT; j++) std[j] = Math.sqrt(std[j] as number) || 1;
  }
  // Interleave: each row = dense block (if on) then its hashed entries.
  const withDense = opts.config.lexicon;
  const total = idx.length + (withDense ? n * DENSE_COUNT : 0);
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
  }
  ptr[n] = k;
  return { X: { rows: n, cols: fx.dimension, rowPtr: ptr, index, value }, denseMean: mean, denseStd: std };
}
