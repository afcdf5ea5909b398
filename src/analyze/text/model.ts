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
 * inference is one multiply-add per feature.
 */
import { DENSE_COUNT, FeatureExtractor, type FeatureConfig } from './features.ts';

/** The model's JSON header. */
export interface ModelHeader {
  readonly format: 'attune-text-model';
  readonly version: 1;
  readonly features: FeatureConfig;
  /** Intercepts on EmoBank's 1–5 scale, per target. */
  readonly bias: { readonly valence: number; readonly arousal: number };
  /** Tensor name → location in the file. */
  readonly tensors: Readonly<Record<string, { readonly offset: number; readonly length: number; readonly dtype: 'f32' | 'u32' }>>;
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
}

const MAGIC = 0x58545441; // "ATTX" read as little-endian u32

/** Serialises a model. */
export function encodeModel(header: Omit<ModelHeader, 'tensors'>, tensors: Readonly<Record<string, Float32Array | Uint32Array>>): Uint8Array {
  const layout: Record<string, { offset: number; length: number; dtype: 'f32' | 'u32' }> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    layout[name] = { offset, length: t.length, dtype: t instanceof Float32Array ? 'f32' : 'u32' };
    offset += t.length * 4;
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
  const get = (name: string): { offset: number; length: number } => {
    const t = header.tensors[name];
    if (!t) throw new Error(`text model: missing tensor ${name}`);
    return t;
  };
  const dim = DENSE_COUNT + (1 << header.features.bits);
  const v = get('valence');
  const a = get('arousal');
  const k = get('known');
  if (v.length !== dim || a.length !== dim) throw new Error('text model: weight size mismatch');
  return {
    header,
    valence: new Float32Array(aligned, v.offset, v.length),
    arousal: new Float32Array(aligned, a.offset, a.length),
    known: new Uint32Array(aligned, k.offset, k.length),
  };
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

  constructor(model: TextModel) {
    this.model = model;
    this.fx = new FeatureExtractor(model.header.features);
    this.knownSet = new Set(model.known);
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
    for (let k = 0; k < fx.count; k++) {
      const j = idx[k] as number;
      const x = val[k] as number;
      v += (m.valence[j] as number) * x;
      a += (m.arousal[j] as number) * x;
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
