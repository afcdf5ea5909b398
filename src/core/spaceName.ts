/**
 * Space names (SPEC H1): what a steward types, checked before it is stored and written to the
 * public log. Pure.
 *
 * Length is counted in user-perceived characters — extended grapheme clusters (Unicode UAX #29,
 * via `Intl.Segmenter`) — so "👩‍👩‍👧" is one character, not eight UTF-16 units, and 80 emoji
 * fit in 80 characters. Refused outright, with a message that names the character:
 *
 * - control characters (general category Cc: NUL, C0, DEL, C1) — they break terminals, CSV
 *   and logs; a name is one line;
 * - format characters (Cf) that are not needed to spell emoji or scripts: the bidirectional
 *   embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the implicit marks
 *   (U+200E, U+200F, U+061C) — Unicode TR #36 §2.1 and "Trojan Source" (Boucher & Anderson
 *   2021): they make a name display differently from what it is — plus the other invisible
 *   Cf characters (soft hyphen, word joiner, BOM, interlinear annotations, tag characters
 *   outside emoji tag sequences …). ZWJ (U+200D) and ZWNJ (U+200C) stay: emoji sequences
 *   and Persian, Hindi and other scripts need them; emoji tag sequences (🏴󠁧󠁢󠁳󠁣󠁴󠁿) keep their tags.
 * - lone surrogates (not Unicode text at all);
 * - line and paragraph separators (U+2028, U+2029) — a name is one line.
 *
 * The name is NFC-normalised and trimmed (including Unicode spaces) before it is counted.
 */

/** Longest name, in user-perceived characters. */
export const MAX_NAME_CHARS = 80;

/** A checked name, or why it was refused. */
export type NameCheck = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly message: string };

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** User-perceived characters in `s` (extended grapheme clusters). */
export function graphemeCount(s: string): number {
  let n = 0;
  for (const _ of segmenter.segment(s)) n++;
  return n;
}

const BIDI = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]);

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why code point `cp` (at grapheme `g`) may not be in a name, or null. */
function refusal(cp: number, g: string): string | null {
  if (cp >= 0xd800 && cp <= 0xdfff) return `an unpaired surrogate (${hex(cp)}) is not text`;
  if (BIDI.has(cp)) return `the name contains the invisible direction control ${hex(cp)}; it would make the name display differently from what it is`;
  if (/\p{Cc}/u.test(String.fromCodePoint(cp))) return `the name contains the control character ${hex(cp)}; use letters, digits, punctuation or emoji`;
  if (cp === 0x2028 || cp === 0x2029) return `the name contains a line separator (${hex(cp)}); a name is one line`;
  if (cp === 0x200c || cp === 0x200d) return null;
  // Tag characters are allowed only inside an emoji tag sequence (a flag like 🏴󠁧󠁢󠁳󠁣󠁴󠁿).
  if (cp >= 0xe0020 && cp <= 0xe007f) return /^\p{Extended_Pictographic}/u.test(g) ? null : `the name contains the invisible tag character ${hex(cp)}`;
  if (/\p{Cf}/u.test(String.fromCodePoint(cp))) return `the name contains the invisible format character ${hex(cp)}`;
  return null;
}

/** Checks and normalises a space name. */
export function checkSpaceName(raw: string): NameCheck {
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return { ok: false, message: 'name must not be empty' };
  let count = 0;
  for (const { segment } of segmenter.segment(name)) {
    count++;
    for (let i = 0; i < segment.length; i++) {
      const cp = segment.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      const why = refusal(cp, segment);
      if (why) return { ok: false, message: why };
    }
  }
  if (count > MAX_NAME_CHARS) return { ok: false, message: `name must be at most ${MAX_NAME_CHARS} characters (it has ${count})` };
  return { ok: true, name };
}
