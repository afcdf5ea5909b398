/**
 * A story's text and its author's pseudonym (SPEC §ST, ST3): what a participant types, checked
 * before anything stores or shows it. Pure.
 *
 * Stories are prose, so unlike a space name (core/spaceName.ts) they keep line breaks (`\n`,
 * `\r\n` becomes `\n`) and tabs, and they keep the implicit direction marks (U+200E, U+200F,
 * U+061C) that Arabic, Hebrew or Persian writers need around numbers and punctuation. Everything
 * that can make text *display* differently from what it is stays refused, with a message naming
 * the character: the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069; Unicode TR #36 §2.1, "Trojan Source", Boucher & Anderson 2021), the other
 * control characters (Cc), invisible format characters (Cf) other than ZWJ/ZWNJ and emoji tag
 * sequences, line/paragraph separators and lone surrogates.
 *
 * Markup is not refused: `<script>` is just text here. Every screen shows a story as inert text
 * (`textContent`, never `innerHTML`), so refusing it would only hide what someone wrote.
 *
 * Length is counted in user-perceived characters (extended grapheme clusters, UAX #29), so 1,000
 * emoji fit in 1,000 characters.
 */
import { graphemeCount } from '../spaceName.ts';

/** Longest story, in user-perceived characters. */
export const MAX_STORY_CHARS = 1000;
/** Longest pseudonym, in user-perceived characters. */
export const MAX_PSEUDONYM_CHARS = 40;

/** Why a text was refused: one code of core/errors.ts and a message for the author. */
export type TextRefusal = { readonly ok: false; readonly code: 'BAD_REQUEST' | 'BAD_CHARACTER' | 'STORY_TOO_LONG'; readonly message: string };

/** A checked text, or why it was refused. */
export type TextCheck = { readonly ok: true; readonly text: string } | TextRefusal;

const BIDI_CONTROLS = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);
const IMPLICIT_MARKS = new Set([0x200e, 0x200f, 0x061c]);
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why code point `cp` (in grapheme `g`) may not be in a story, or null. `lines`: newlines and tabs allowed. */
function refusal(cp: number, g: string, what: string, lines: boolean): string | null {
  if (cp >= 0xd800 && cp <= 0xdfff) return `an unpaired surrogate (${hex(cp)}) is not text`;
  if (BIDI_CONTROLS.has(cp)) return `the ${what} contains the direction control ${hex(cp)}, which would make it display differently from what it is`;
  if (lines && (cp === 0x0a || cp === 0x09)) return null;
  if (/\p{Cc}/u.test(String.fromCodePoint(cp))) return `the ${what} contains the control character ${hex(cp)}`;
  if (cp === 0x2028 || cp === 0x2029) return `the ${what} contains a line separator (${hex(cp)}); use a plain line break`;
  if (cp === 0x200c || cp === 0x200d) return null;
  if (lines && IMPLICIT_MARKS.has(cp)) return null;
  if (cp >= 0xe0020 && cp <= 0xe007f) return /^\p{Extended_Pictographic}/u.test(g) ? null : `the ${what} contains the invisible tag character ${hex(cp)}`;
  if (/\p{Cf}/u.test(String.fromCodePoint(cp))) return `the ${what} contains the invisible format character ${hex(cp)}`;
  return null;
}

function scan(text: string, what: string, lines: boolean): string | null {
  for (const { segment } of segmenter.segment(text)) {
    for (let i = 0; i < segment.length; i++) {
      const cp = segment.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      const why = refusal(cp, segment, what, lines);
      if (why) return why;
    }
  }
  return null;
}

/**
 * Checks and normalises a story: NFC, `\r\n` → `\n`, trimmed, 1 to {@link MAX_STORY_CHARS}
 * characters, no character that could disguise it. The length is checked first (a 10,000-character
 * paste is told it is too long, whatever else it holds).
 */
export function checkStoryText(raw: string): TextCheck {
  const text = raw.normalize('NFC').replace(/\r\n?/g, '\n').trim();
  if (text.length === 0) return { ok: false, code: 'BAD_REQUEST', message: 'the story is empty' };
  // A cheap bound first: more UTF-16 units than 1,000 graphemes could ever need (an emoji ZWJ
  // sequence is at most ~35 units) means counting can stop early.
  const count = text.length > MAX_STORY_CHARS * 40 ? Number.POSITIVE_INFINITY : graphemeCount(text);
  if (count > MAX_STORY_CHARS) return { ok: false, code: 'STORY_TOO_LONG', message: `a story may have at most ${MAX_STORY_CHARS} characters (this one has ${Number.isFinite(count) ? count : `over ${MAX_STORY_CHARS * 40}`})` };
  const why = scan(text, 'story', true);
  if (why) return { ok: false, code: 'BAD_CHARACTER', message: why };
  return { ok: true, text };
}

/** A checked pseudonym (null: anonymous), or why it was refused. */
export type PseudonymCheck = { readonly ok: true; readonly name: string | null } | TextRefusal;

/** Checks a pseudonym: empty or absent means anonymous; one line of at most {@link MAX_PSEUDONYM_CHARS} characters. */
export function checkPseudonym(raw: string | null | undefined): PseudonymCheck {
  if (raw === null || raw === undefined) return { ok: true, name: null };
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) return { ok: true, name: null };
  const count = name.length > MAX_PSEUDONYM_CHARS * 40 ? Number.POSITIVE_INFINITY : graphemeCount(name);
  if (count > MAX_PSEUDONYM_CHARS) return { ok: false, code: 'STORY_TOO_LONG', message: `a pseudonym may have at most ${MAX_PSEUDONYM_CHARS} characters` };
  const why = scan(name, 'pseudonym', false);
  if (why) return { ok: false, code: 'BAD_CHARACTER', message: why };
  return { ok: true, name };
}
