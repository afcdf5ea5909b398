/**
 * Lexical checks for the XML Schema datatypes EmotionML uses, after the schema's whitespace
 * handling (every type here collapses whitespace except xs:string).
 *
 * Source: W3C, "XML Schema Part 2: Datatypes Second Edition" (2004), §3.2.4 float, §3.2.17
 * anyURI, §3.3.4 NMTOKEN(S), §3.3.9 ID (an NCName), §3.3.13 integer, §3.3.20
 * nonNegativeInteger; "Namespaces in XML 1.0" §3 (NCName); XML 1.0 §2.3 (NameChar); RFC 3986
 * (URI syntax, with XLink §5.4 escaping of disallowed characters as XSD 1.0 specifies); RFC 6838
 * §4.2 (media type names).
 */
import { collapse } from './vocabulary.ts';

const NAME_START = 'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NCNAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
const NMTOKEN = new RegExp(`^[${NAME_CHAR}:]+$`, 'u');

/** xs:ID / xs:NCName. */
export function isNCName(raw: string): boolean {
  return NCNAME.test(collapse(raw));
}

/** xs:NMTOKEN. */
export function isNmtoken(raw: string): boolean {
  return NMTOKEN.test(collapse(raw));
}

/** xs:NMTOKENS: a non-empty space-separated list of NMTOKEN. */
export function isNmtokens(raw: string): boolean {
  const s = collapse(raw);
  return s !== '' && s.split(' ').every((t) => NMTOKEN.test(t));
}

/** xs:integer. */
export function isInteger(raw: string): boolean {
  return /^[+-]?[0-9]+$/.test(collapse(raw));
}

/** xs:nonNegativeInteger (`-0` is zero, so allowed). */
export function isNonNegativeInteger(raw: string): boolean {
  const s = collapse(raw);
  return /^\+?[0-9]+$/.test(s) || /^-0+$/.test(s);
}

/** Parses xs:float; `undefined` if the lexical form is not one (note: `0x1`, `''`, `1_0` are not). */
export function parseFloatLexical(raw: string): number | undefined {
  const s = collapse(raw);
  if (s === 'INF') return Number.POSITIVE_INFINITY;
  if (s === '-INF') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  return Number(s);
}

/**
 * A scale value: xs:float in [0, 1] (EmotionML `scale-value`); NaN fails both bounds. The range
 * is tested on the single-precision value the schema sees (so `1.00000001` passes, as libxml2
 * lets it), and the decimal's own double is returned (so `0.6` stays 0.6).
 */
export function parseScaleValue(raw: string): number | undefined {
  const x = parseFloatLexical(raw);
  if (x === undefined) return undefined;
  const f = Math.fround(x);
  return f >= 0 && f <= 1 ? Math.min(1, Math.max(0, x)) : undefined;
}

/**
 * xs:anyURI: after escaping the characters XLink §5.4 escapes (spaces, non-ASCII, `<>"{}|\^\``),
 * the result must be an RFC 3986 URI reference — here: at most one `#`, every `%` followed by two
 * hex digits, and a scheme (if there is a `:` before the first `/`, `?` or `#`) that starts with a
 * letter and holds only letters, digits, `+`, `-` and `.`.
 */
export function isAnyUri(raw: string): boolean {
  const s = collapse(raw);
  if ((s.match(/#/g) ?? []).length > 1) return false;
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return false;
  const head = /^[^/?#]*/.exec(s)?.[0] ?? '';
  const colon = head.indexOf(':');
  if (colon >= 0 && !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(head.slice(0, colon))) return false;
  return true;
}

/** A MIME type (RFC 6838 §4.2 names, RFC 2045 parameters): `type/subtype[; name=value]*`. */
export function isMimeType(raw: string): boolean {
  const name = "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
  const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
  const param = `;[ \\t]*${token}=(${token}|"([^"\\\\]|\\\\.)*")[ \\t]*`;
  return new RegExp(`^${name}/${name}[ \\t]*(${param})*$`).test(raw.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, ''));
}
