/**
 * XML 1.0 → a small element tree with namespaces resolved and a line:column on every element and
 * attribute, for the EmotionML checker and importer.
 *
 * Parsing is done by `saxes` 6 (ISC), a strict SAX parser that aims at conformance with XML 1.0
 * Fifth Edition and Namespaces in XML 1.0 Third Edition and reports every well-formedness error
 * it finds (unescaped `&` and `<`, `]]>` in content, characters outside `Char` such as U+0001 or
 * `&#0;`, duplicate attributes, unbound prefixes, a second root …). It was chosen over a
 * hand-written reader (this file's previous version accepted all four of the examples),
 * over `sax` (non-conformant even in strict mode), `fast-xml-parser` and `txml` (lenient by
 * design) and `@rgrove/parse-xml` (strict too, but no namespace resolution and no line numbers)
 * because it is strict, namespace-aware, reports positions, is pure JavaScript with one
 * dependency (`xmlchars`), ships its own types, and is exercised by jsdom, which depends on it.
 * Its last release is from 2021; it implements a frozen standard, and the tests below pin the
 * behaviour we rely on.
 *
 * On top of saxes: a DOCTYPE is refused (EmotionML needs none, and we would neither apply a DTD's
 * default attributes nor its entities, so reading on would misread the document; it also rules
 * out entity-expansion attacks), and a bare `&` is reported where it is rather than where saxes
 * notices (at the next `;` or the end).
 *
 * Sources: W3C, "Extensible Markup Language (XML) 1.0 (Fifth Edition)", §2–4; "Namespaces in
 * XML 1.0 (Third Edition)".
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

/** A 1-based line and column (columns count UTF-16 code units). */
export interface XmlPosition {
  readonly line: number;
  readonly column: number;
}

/** A parsed attribute (namespace declarations are not attributes here). */
export interface XmlAttribute extends XmlPosition {
  /** The qualified name as written, e.g. `value`, `xml:lang`. */
  readonly qname: string;
  /** Namespace URI ('' for an unprefixed attribute). */
  readonly ns: string;
  readonly local: string;
  /** The normalised value (XML 1.0 §3.3.3). */
  readonly value: string;
}

/** A parsed element. */
export interface XmlElement extends XmlPosition {
  /** Namespace URI ('' for none). */
  readonly ns: string;
  /** Local name. */
  readonly name: string;
  /** Qualified name as written. */
  readonly qname: string;
  /** Attribute values by qualified name as written (e.g. `value`, `xml:lang`). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Attribute values keyed `{ns}local` for namespaced ones, plain local name otherwise. */
  readonly nsAttrs: Readonly<Record<string, string>>;
  /** The attributes with their positions, in document order. */
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element (CDATA included). */
  readonly text: string;
}

/** Thrown for a document that is not well-formed (or has a DOCTYPE). */
export class XmlError extends Error implements XmlPosition {
  readonly line: number;
  readonly column: number;
  /** The reason without the position. */
  readonly reason: string;
  constructor(reason: string, position: XmlPosition) {
    super(`${position.line}:${position.column}: ${reason}`);
    this.name = 'XmlError';
    this.reason = reason;
    this.line = position.line;
    this.column = position.column;
  }
}

/** Maps string offsets to 1-based line:column (line ends: LF, CRLF, lone CR). */
function lineIndex(xml: string): (offset: number) => XmlPosition {
  const starts = [0];
  for (let i = 0; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (c === 10 || (c === 13 && xml.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
  };
}

/**
 * The offset of the first `&` that does not start a character or entity reference, skipping
 * comments, CDATA sections and processing instructions (where `&` is plain text); -1 if none.
 */
function bareAmpersand(xml: string): number {
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|&(#[0-9]+;|#x[0-9a-fA-F]+;|[^\s&;<>"'=/]+;)?/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    if (m[0].startsWith('&') && m[1] === undefined) return m.index;
  }
  return -1;
}

interface Frame {
  readonly start: XmlPosition;
  readonly tag: SaxesTagNS;
  readonly attributes: XmlAttribute[];
  readonly children: XmlElement[];
  text: string;
}

/**
 * The deepest element nesting accepted. EmotionML needs five levels and its hosts a few more;
 * the limit keeps the recursive walks over the tree (checker, serialiser) far from the stack's
 * end on hostile input.
 */
export const MAX_DEPTH = 1000;

const CHUNK = 8192;

/** Parses a document and returns its root element; throws {@link XmlError} if it is not well-formed. */
export function parseXml(input: string): XmlElement {
  const xml = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const at = lineIndex(xml);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: Frame[] = [];
  const pendingAttrs: XmlAttribute[] = [];
  let pendingStart: XmlPosition = { line: 1, column: 1 };
  let root: XmlElement | undefined;
  let failure: XmlError | undefined;

  const fail = (reason: string, pos: XmlPosition): void => {
    failure ??= new XmlError(reason, pos);
  };
  parser.on('error', (e) => {
    // saxes prefixes "line:column: " and has just read the offending character; report that
    // character's position in the same units (UTF-16, all line ends) as elements get.
    const reason = e.message.replace(/^\d+:\d+: /, '');
    fail(reason, at(Math.max(0, parser.position - 1)));
  });
  parser.on('doctype', () => {
    fail('a DOCTYPE is not accepted (EmotionML needs none; its defaults and entities would not be applied)', at(xml.lastIndexOf('<!DOCTYPE', parser.position)));
  });
  parser.on('opentagstart', (tag) => {
    // saxes has read the name and the character after it.
    pendingStart = at(Math.max(0, xml.lastIndexOf(`<${tag.name}`, parser.position - tag.name.length - 1)));
    pendingAttrs.length = 0;
  });
  parser.on('attribute', (a) => {
    // The event fires after the closing quote; walk back over the value, '=' and spaces.
    const close = parser.position - 1;
    const quote = xml[close] as string;
    let i = xml.lastIndexOf(quote, close - 1) - 1;
    while (i > 0 && /[\s=]/.test(xml[i] as string)) i--;
    const pos = at(Math.max(0, i - a.name.length + 1));
    if (a.name === 'xmlns' || a.prefix === 'xmlns') return;
    pendingAttrs.push({ qname: a.name, ns: '', local: a.local, value: a.value, ...pos });
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_DEPTH) fail(`elements nest deeper than ${MAX_DEPTH} levels`, pendingStart);
    // Namespaces are only resolvable once the whole start tag is read.
    const attributes = pendingAttrs.map((a) => {
      const full = tag.attributes[a.qname];
      return { ...a, ns: full?.uri ?? '' };
    });
    stack.push({ start: pendingStart, tag, attributes, children: [], text: '' });
  });
  const addText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const f = stack.pop();
    if (!f) return;
    // No prototype: attribute names such as __proto__ or constructor are data here.
    const attrs: Record<string, string> = Object.create(null);
    const nsAttrs: Record<string, string> = Object.create(null);
    for (const a of f.attributes) {
      attrs[a.qname] = a.value;
      nsAttrs[a.ns ? `{${a.ns}}${a.local}` : a.local] = a.value;
    }
    const el: XmlElement = { ns: f.tag.uri, name: f.tag.local, qname: f.tag.name, attrs, nsAttrs, attributes: f.attributes, children: f.children, text: f.text, ...f.start };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
  });

  // Written in slices so that parsing stops soon after the first error: saxes's namespace
  // lookups are linear in the nesting depth, so a hostile document would cost quadratic time
  // if it were parsed to the end after the depth limit.
  for (let i = 0; i < xml.length && !failure; i += CHUNK) parser.write(xml.slice(i, i + CHUNK));
  if (!failure) parser.close();
  if (failure) {
    const amp = bareAmpersand(xml);
    const ampAt = amp >= 0 ? at(amp) : undefined;
    if (ampAt && (ampAt.line < failure.line || (ampAt.line === failure.line && ampAt.column <= failure.column))) {
      throw new XmlError("'&' does not start a reference (write it as &amp;)", ampAt);
    }
    throw failure;
  }
  if (!root) throw new XmlError('no root element', at(xml.length));
  return root;
}

/**
 * Decodes the bytes of an XML file: UTF-8 (with or without a byte-order mark) or UTF-16 with a
 * byte-order mark, as XML 1.0 §4.3.3 requires every processor to read. Invalid UTF-8, or an
 * encoding declaration naming anything else, is an error rather than a guess.
 */
export function decodeXmlBytes(bytes: Uint8Array): string {
  let text: string;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new XmlError('the file is not valid UTF-8 (and has no UTF-16 byte-order mark)', { line: 1, column: 1 });
    }
  }
  const decl = /^\uFEFF?<\?xml\s[^?]*encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/.exec(text);
  const enc = decl?.[1]?.toLowerCase();
  if (enc !== undefined && enc !== 'utf-8' && enc !== 'utf8' && enc !== 'utf-16') {
    throw new XmlError(`encoding '${decl?.[1]}' is not supported; use UTF-8 or UTF-16`, { line: 1, column: 1 });
  }
  return text;
}

/** Escapes text for an attribute value or element content. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;'));
}
