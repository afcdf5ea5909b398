/**
 * `analyzeText`: English text → `{ valence, arousal, confidence }`, offline.
 *
 * The model (see model.ts, trained by train.ts on EmoBank) predicts on EmoBank's 1–5 scale;
 * this maps 3 ↦ 0 and ±2 ↦ ±1, so outputs share the scale people rated on. Confidence grows
 * with the number of words the model has evidence for (seen in training or in a lexicon) and
 * with their share of the text, and is capped below 1: a sentence is weaker evidence of a
 * feeling than a tap on the grid. Text with no known words gets confidence ≤ 0.05 and affect
 * pulled to 0; an empty text gets exactly `{0, 0, 0}`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type TextModel, TextPredictor, decodeModel } from './model.ts';

/** What {@link analyzeText} returns. */
export interface TextAffect {
  /** Unpleasant (−1) → pleasant (+1). */
  readonly valence: number;
  /** Calm (−1) → energised (+1). */
  readonly arousal: number;
  /** 0 (no evidence) → {@link MAX_TEXT_CONFIDENCE}. */
  readonly confidence: number;
}

/** The committed model artifact, beside this file. */
export const MODEL_URL = new URL('./model.bin', import.meta.url);

/** Highest confidence a text can reach. */
export const MAX_TEXT_CONFIDENCE = 0.8;

/** Confidence for text with words but none the model knows. */
export const UNKNOWN_TEXT_CONFIDENCE = 0.05;

/** How far affect from unknown-only text is pulled towards 0. */
const UNKNOWN_SHRINK = 0.25;

/** Reads and parses a model artifact (the committed one by default). */
export function loadTextModel(path: string | URL = MODEL_URL): TextModel {
  return decodeModel(readFileSync(typeof path === 'string' ? path : fileURLToPath(path)));
}

function clamp1(x: number): number {
  return Number.isFinite(x) ? (x < -1 ? -1 : x > 1 ? 1 : x) : 0;
}

/** An analyser bound to one model: `(text) => TextAffect`. */
export type TextAnalyzer = (text: string) => TextAffect;

/** Builds an analyser from a loaded model. */
export function createTextAnalyzer(model: TextModel): TextAnalyzer {
  const p = new TextPredictor(model);
  return (text: string): TextAffect => {
    const r = p.predict(text);
    // No words at all (empty, whitespace, punctuation only): nothing to go on.
    if (r.words === 0) return { valence: 0, arousal: 0, confidence: 0 };
    let v = (r.valence - 3) / 2;
    let a = (r.arousal - 3) / 2;
    if (r.known === 0) {
      return { valence: clamp1(v * UNKNOWN_SHRINK), arousal: clamp1(a * UNKNOWN_SHRINK), confidence: UNKNOWN_TEXT_CONFIDENCE };
    }
    v = clamp1(v);
    a = clamp1(a);
    const share = r.known / r.words;
    const confidence = MAX_TEXT_CONFIDENCE * (1 - Math.exp(-r.known / 3)) * (0.5 + 0.5 * share);
    return { valence: v, arousal: a, confidence };
  };
}

let shared: TextAnalyzer | undefined;

/**
 * Analyses one text with the committed model (loaded once, on first call). Synchronous and
 * allocation-light; safe for any string (output always finite and in range).
 */
export function analyzeText(text: string): TextAffect {
  shared ??= createTextAnalyzer(loadTextModel());
  return shared(text);
}
