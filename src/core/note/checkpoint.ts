/**
 * C2SP tlog-checkpoint note text (https://c2sp.org/tlog-checkpoint): the origin line, the tree
 * size in decimal without leading zeros, the base64 of the 32-byte RFC 6962 root, then optional
 * non-empty extension lines; every line ends in `\n`.
 */
import { HASH_SIZE } from '../merkle/hasher.ts';
import { decodeBase64, encodeBase64 } from './base64.ts';

/** A checkpoint's content. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

/** Formats a checkpoint's note text. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.root.length !== HASH_SIZE) throw new RangeError('checkpoint root must be 32 bytes');
  if (c.origin.length === 0 || c.origin.includes('\n')) throw new RangeError('invalid checkpoint origin');
  const ext = c.extensions.map((e) => `${e}\n`).join('');
  return `${c.origin}\n${c.size}\n${encodeBase64(c.root)}\n${ext}`;
}

/** Parses a checkpoint's note text (not the signatures). */
export function parseCheckpoint(text: string): Checkpoint | { readonly error: string } {
  if (!text.endsWith('\n')) return { error: 'checkpoint text must end with a newline' };
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return { error: 'checkpoint needs origin, size and root lines' };
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) return { error: 'empty checkpoint origin' };
  if (!/^(0|[1-9]\d*)$/.test(sizeText)) return { error: `tree size '${sizeText}' is not a canonical decimal` };
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) return { error: 'tree size too large' };
  const root = decodeBase64(rootText);
  if (root === null || root.length !== HASH_SIZE) return { error: 'root hash must be base64 of 32 bytes' };
  if (extensions.some((e) => e.length === 0)) return { error: 'empty extension line' };
  return { origin, size, root, extensions };
}
