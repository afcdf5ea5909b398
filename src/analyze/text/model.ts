/**
 * The text model: its artifact format (a small binary file) and prediction.
 *
 * Artifact layout (little-endian):
 * ```
 * "ATTX" magic · u32 header byte length · header (UTF-8 JSON, see ModelHeader) · pad to 4 ·
 * tensors, each a Float32Array or Uint32Array at the offset the header gives
 * ```
 * Prediction per target (valence, arousal) is a linear function of the hashed features and the
 * dense lexicon features; the dense standardisation is folded into the weights at export, so
 * inference is one multiply-add per feature. A model with a word table (tensors `words`,
 * `wordScore`, `wordValence`, `wordArousal`; see wordTable.ts) also adds, per target, the mean
 * of the per-word contributions of the text's table words.
 */
import { DENSE_COUNT, FeatureExtractor, type FeatureConfig } from './features.ts';
import { type BoostedTrees, predictBoosted } from './boost.ts';
import type { WordTable } from './wordTable.ts';

/** The model's JSON header. */
export interface ModelHeader {
  readonly format: 'attune-text-model';
  readonly version: 1;
  readonly features: FeatureConfig;
  /** Intercepts on EmoBank's 1–5 scale, per target. */
  readonly bias: { readonly valence: number; readonly arousal: number };
  /** Boosted trees on the valence residual (tensors `boostFeature`, `boostThreshold`, `boostLeaf`), if any. */
  readonly boost?: { readonly trees: number; readonly depth: number; readonly learningRate: number; readonly minLeaf: number; readonly folds: number };
  /** Where the word table came from and how many frequent words the mean vector skips, when the model has one. */
  readonly wordTable?: { readonly source: string; readonly words: number; readonly poolSkip: number };
  /**
   * Scale of each `i16` tensor: value = stored integer × scale. A quantised weight tensor
   * `valence` or `arousal` comes with an exact f32 tensor `valenceDense` / `arousalDense` for
   * its first {@link DENSE_COUNT} (dense-feature) columns.
   */
  readonly scales?: Readonly<Record<string, number>>;
  /** Tensor name → location in the file. */
  readonly tensors: Readonly<Record<string, { readonly offset: number; readonly length: number; readonly dtype: 'f32' | 'u32' | 'i16' }>>;
}

/** A loaded model. */
export interface TextModel {
  readonly header: ModelHeader;
  /** Weights over all `DENSE_COUNT + 2^bits` columns, valence. */
  readonly valence: Float32Array;
  /** Same for arousal. */
  readonly arousal: Float32Array;
  /** Sorted 32-bit FNV-1a hashes of the words seen in training. */
  readonly known: Uint32Array;
  /** The word table (induced scores and per-word contributions), if the model has one. */
  readonly table?: WordTable;
  /** Trees adding a correction to valence from `[raw valence, ...dense features]`, if any. */
  readonly boost?: BoostedTrees;
}

const MAGIC = 0x58545441; // "ATTX" read as little-endian u32

/** A tensor the artifact can hold. */
export type Tensor = Float32Array | Uint32Array | Int16Array;

/** Serialises a model (each tensor starts at a multiple of 4 bytes). */
export function encodeModel(header: Omit<ModelHeader, 'tensors'>, tensors: Readonly<Record<string, Tensor>>): Uint8Array {
  const layout: Record<string, { offset: number; length: number; dtype: 'f32' | 'u32' | 'i16' }> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    layout[name] = { offset, length: t.length, dtype: t instanceof Float32Array ? 'f32' : t instanceof Int16Array ? 'i16' : 'u32' };
    offset += Math.ceil(t.byteLength / 4) * 4;
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify({ ...header, tensors: layout }));
  const start = Math.ceil((8 + headerBytes.length) / 4) * 4;
  const out = new Uint8Array(start + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  for (const [name, t] of Object.entries(tensors)) {
    const at = start + (layout[name]?.offset ?? 0);
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), at);
  }
  return out;
}

/** Parses a model artifact; throws on a malformed file. */
export function decodeModel(bytes: Uint8Array): TextModel {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error('text model: bad magic');
  const hlen = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as ModelHeader;
  if (header.format !== 'attune-text-model' || header.version !== 1) throw new Error('text model: unsupported format');
  const start = Math.ceil((8 + hlen) / 4) * 4;
  // Copy into a fresh, aligned buffer: the input may be a Node Buffer, whose slice() is a view
  // into a larger pool at an arbitrary offset.
  const aligned = new Uint8Array(bytes.subarray(start)).buffer;
  const get = (name: string): { offset: number; length: number; dtype: 'f32' | 'u32' | 'i16' } => {
    const t = header.tensors[name];
    if (!t) throw new Error(`text model: missing tensor ${name}`);
    return t;
  };
  // Weights: f32 as stored, or i16 × scale with the dense columns from an exact f32 tensor.
  const weights = (name: string): Float32Array => {
    const t = get(name);
    if (t.dtype === 'f32') return new Float32Array(aligned, t.offset, t.length);
    const scale = header.scales?.[name];
    if (t.dtype !== 'i16' || scale === undefined) throw new Error(`text model: bad tensor ${name}`);
    const q = new Int16Array(aligned, t.offset, t.length);
    const out = new Float32Array(t.length);
    for (let j = 0; j < q.length; j++) out[j] = (q[j] as number) * scale;
    const d = get(`${name}Dense`);
    if (d.length !== DENSE_COUNT) throw new Error(`text model: bad tensor ${name}Dense`);
    out.set(new Float32Array(aligned, d.offset, d.length));
    return out;
  };
  const dim = DENSE_COUNT + (1 << header.features.bits);
  const valence = weights('valence');
  const arousal = weights('arousal');
  const k = get('known');
  if (valence.length !== dim || arousal.length !== dim) throw new Error('text model: weight size mismatch');
  const model = {
    header,
    valence,
    arousal,
    known: new Uint32Array(aligned, k.offset, k.length),
  };
  let withBoost: TextModel = model;
  if (header.boost) {
    const bf = get('boostFeature');
    const bt = get('boostThreshold');
    const bl = get('boostLeaf');
    const { trees, depth } = header.boost;
    if (bf.length !== trees * ((1 << depth) - 1) || bt.length !== bf.length || bl.length !== trees * (1 << depth)) {
      throw new Error('text model: boosted-tree size mismatch');
    }
    const feature = new Uint32Array(aligned, bf.offset, bf.length);
    if (feature.some((j) => j > DENSE_COUNT)) throw new Error('text model: boosted-tree feature out of range');
    withBoost = {
      ...model,
      boost: { trees, depth, feature, threshold: new Float32Array(aligned, bt.offset, bt.length), leaf: new Float32Array(aligned, bl.offset, bl.length) },
    };
  }
  if (!header.tensors.words) return withBoost;
  const w = get('words');
  const sc = get('wordScore');
  const wv = get('wordValence');
  const wa = get('wordArousal');
  if (sc.length !== w.length || wv.length !== w.length || wa.length !== w.length) throw new Error('text model: word table size mismatch');
  const table: WordTable = {
    hashes: new Uint32Array(aligned, w.offset, w.length),
    score: new Float32Array(aligned, sc.offset, sc.length),
    valence: new Float32Array(aligned, wv.offset, wv.length),
    arousal: new Float32Array(aligned, wa.offset, wa.length),
    dim: 0,
    poolSkip: header.wordTable?.poolSkip ?? 0,
  };
  return { ...withBoost, table };
}

/** Raw model output for one text, on EmoBank's 1–5 scale, plus the evidence behind it. */
export interface RawPrediction {
  valence: number;
  arousal: number;
  /** Word tokens. */
  words: number;
  /** Word tokens seen in training or found in a lexicon. */
  known: number;
}

/** Runs a model over texts, reusing one extractor. */
export class TextPredictor {
  readonly model: TextModel;
  private readonly fx: FeatureExtractor;
  private readonly knownSet: ReadonlySet<number>;
  private readonly out: RawPrediction = { valence: 0, arousal: 0, words: 0, known: 0 };
  /** Input row of the boosted trees: raw valence, then the dense features. */
  private readonly boostInput = new Float64Array(1 + DENSE_COUNT);
  /** Valence and arousal weights interleaved (v0, a0, v1, a1, …): one cache line serves both. */
  private readonly pair: Float32Array;

  constructor(model: TextModel) {
    this.model = model;
    this.fx = new FeatureExtractor(model.header.features, model.table);
    this.knownSet = new Set(model.known);
    this.pair = new Float32Array(model.valence.length * 2);
    for (let j = 0; j < model.valence.length; j++) {
      this.pair[2 * j] = model.valence[j] as number;
      this.pair[2 * j + 1] = model.arousal[j] as number;
    }
  }

  /** Predicts; the returned object is reused by the next call. */
  predict(text: string): Readonly<RawPrediction> {
    const fx = this.fx;
    const m = this.model;
    fx.extract(text);
    let v = m.header.bias.valence;
    let a = m.header.bias.arousal;
    if (m.header.features.lexicon) {
      for (let j = 0; j < DENSE_COUNT; j++) {
        const x = fx.dense[j] as number;
        v += (m.valence[j] as number) * x;
        a += (m.arousal[j] as number) * x;
      }
    }
    const idx = fx.index;
    const val = fx.value;
    const pair = this.pair;
    for (let k = 0; k < fx.count; k++) {
      const j = (idx[k] as number) << 1;
      const x = val[k] as number;
      v += (pair[j] as number) * x;
      a += (pair[j + 1] as number) * x;
    }
    const table = m.table;
    const tc = fx.tableCount;
    if (table?.valence && table.arousal && tc > 0) {
      let tv = 0;
      let ta = 0;
      for (let t = 0; t < tc; t++) {
        const row = fx.tableRows[t] as number;
        tv += table.valence[row] as number;
        ta += table.arousal[row] as number;
      }
      v += tv / tc;
      a += ta / tc;
    }
    if (m.boost) {
      const bx = this.boostInput;
      bx[0] = v;
      bx.set(fx.dense, 1);
      v += predictBoosted(m.boost, bx);
    }
    const ev = fx.evidence;
    let seen = 0;
    for (let t = 0; t < ev.words; t++) if (this.knownSet.has((ev.wordHashes[t] as number) >>> 0)) seen++;
    const out = this.out;
    out.valence = v;
    out.arousal = a;
    out.words = ev.words;
    out.known = Math.max(seen, ev.lexiconHits);
    return out;
  }
}
