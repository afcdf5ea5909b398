/**
 * Reads the EmoBank train/dev splits from `../shared/data/emobank/` (see that folder's README
 * for the format, licence and attribution). V/A/D are on EmoBank's 1–5 scale, 3 neutral.
 *
 * Source: Buechel & Hahn, "EmoBank: Studying the Impact of Annotation Perspective and
 * Representation Format on Dimensional Emotion Analysis", EACL 2017.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

/** One EmoBank row. */
export interface EmoBankRow {
  readonly id: string;
  readonly text: string;
  /** Valence, 1–5. */
  readonly v: number;
  /** Arousal, 1–5. */
  readonly a: number;
  /** Dominance, 1–5. */
  readonly d: number;
}

/** The repository root (three folders above this file). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the shared EmoBank files live: `ATTUNE_EMOBANK_DIR` or `<repo>/../shared/data/emobank`. */
export function emobankDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ATTUNE_EMOBANK_DIR ?? join(REPO_ROOT, '..', 'shared', 'data', 'emobank');
}

/** Parses EmoBank CSV text (header `id,text,V,A,D`) with a real RFC 4180 parser. */
export function parseEmoBank(csv: string): EmoBankRow[] {
  const records = parse(csv, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records.map((r, i) => {
    const v = Number(r.V);
    const a = Number(r.A);
    const d = Number(r.D);
    if (typeof r.id !== 'string' || typeof r.text !== 'string' || ![v, a, d].every(Number.isFinite)) {
      throw new Error(`EmoBank row ${i + 2}: malformed`);
    }
    return { id: r.id, text: r.text, v, a, d };
  });
}

/** Reads one split (`train` or `dev`). */
export function readEmoBank(split: 'train' | 'dev', dir: string = emobankDir()): EmoBankRow[] {
  return parseEmoBank(readFileSync(join(dir, `${split}.csv`), 'utf8'));
}

/** EmoBank 1–5 → attune's [-1, 1] (3 ↦ 0). */
export function fromEmoBankScale(x: number): number {
  return (x - 3) / 2;
}
