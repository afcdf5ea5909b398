/**
 * A small, strict XML 1.0 reader for importing EmotionML: elements, attributes, text, comments,
 * processing instructions, CDATA, and the predefined and numeric character references. No DTDs
 * (a DOCTYPE is rejected, which also rules out entity-expansion attacks), no external fetches.
 * Namespace prefixes are resolved to URIs so callers can match on (namespace, local name).
 *
 * Source: W3C, "Extensible Markup Language (XML) 1.0 (Fifth Edition)", §2–4; "Namespaces in
 * XML 1.0 (Third Edition)".
 */

/** A parsed element. */
export interface XmlElement {
  /** Namespace URI ('' for none). */
  readonly ns: string;
  /** Local name. */
  readonly name: string;
  /** Attributes by qualified name as written (e.g. `value`, `xml:lang`). */
  readonly attrs: Readonly<Record<string, string>>;
  /** Attributes keyed `{ns}local` for namespaced ones, plain local name otherwise. */
  readonly nsAttrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Concatenated character data directly inside this element. */
  readonly text: string;
}

/** Thrown for malformed XML. */
export class XmlError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'XmlError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function decodeEntities(s: string, at: number): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw new XmlError(`unterminated reference '${m}'`, at);
    if (body[0] === '#') {
      const cp = body[1] === 'x' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!(cp >= 0 && cp <= 0x10ffff)) throw new XmlError(`bad character reference '${m}'`, at);
      return String.fromCodePoint(cp);
    }
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const v = named[body];
    if (v === undefined) throw new XmlError(`unknown entity '${m}'`, at);
    return v;
  });
}

interface Frame {
  qname: string;
  attrs: Record<string, string>;
  scope: Map<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses a document and returns its root element. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const n = xml.length;
  if (xml.charCodeAt(0) === 0xfeff) i = 1;
  const stack: Frame[] = [];
  let root: XmlElement | undefined;
  const nameRe = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

  const readName = (): string => {
    nameRe.lastIndex = i;
    const m = nameRe.exec(xml);
    if (!m) throw new XmlError('expected a name', i);
    i += m[0].length;
    return m[0];
  };
  const skipSpace = (): void => {
    while (i < n && /\s/.test(xml[i] as string)) i++;
  };
  const close = (f: Frame): XmlElement => {
    const resolve = (qname: string, isAttr: boolean): { ns: string; local: string } => {
      const c = qname.indexOf(':');
      if (c < 0) return { ns: isAttr ? '' : (f.scope.get('') ?? ''), local: qname };
      const prefix = qname.slice(0, c);
      const ns = prefix === 'xml' ? XML_NS : f.scope.get(prefix);
      if (ns === undefined) throw new XmlError(`undeclared prefix '${prefix}'`, i);
      return { ns, local: qname.slice(c + 1) };
    };
    const { ns, local } = resolve(f.qname, false);
    const nsAttrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.attrs)) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const r = resolve(k, true);
      nsAttrs[r.ns ? `{${r.ns}}${r.local}` : r.local] = v;
    }
    return { ns, name: local, attrs: f.attrs, nsAttrs, children: f.children, text: f.text };
  };

  while (i < n) {
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end < 0) throw new XmlError('unterminated processing instruction', i);
      i = end + 2;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) throw new XmlError('unterminated comment', i);
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end < 0) throw new XmlError('unterminated CDATA section', i);
      const top = stack[stack.length - 1];
      if (!top) throw new XmlError('CDATA outside the root element', i);
      top.text += xml.slice(i + 9, end);
      i = end + 3;
    } else if (xml.startsWith('<!', i)) {
      throw new XmlError('DOCTYPE and other declarations are not supported', i);
    } else if (xml.startsWith('</', i)) {
      i += 2;
      const qname = readName();
      skipSpace();
      if (xml[i] !== '>') throw new XmlError('expected >', i);
      i++;
      const f = stack.pop();
      if (!f || f.qname !== qname) throw new XmlError(`mismatched end tag </${qname}>`, i);
      const parent = stack[stack.length - 1];
      const el = close(f);
      if (parent) parent.children.push(el);
      else root = el;
    } else if (xml[i] === '<') {
      if (root) throw new XmlError('content after the root element', i);
      i++;
      const qname = readName();
      const attrs: Record<string, string> = {};
      for (;;) {
        const before = i;
        skipSpace();
        if (xml[i] === '>' || xml.startsWith('/>', i)) break;
        if (i === before) throw new XmlError('expected whitespace before an attribute', i);
        const an = readName();
        skipSpace();
        if (xml[i] !== '=') throw new XmlError('expected =', i);
        i++;
        skipSpace();
        const q = xml[i];
        if (q !== '"' && q !== "'") throw new XmlError('expected a quoted attribute value', i);
        const end = xml.indexOf(q, i + 1);
        if (end < 0) throw new XmlError('unterminated attribute value', i);
        const raw = xml.slice(i + 1, end);
        if (raw.includes('<')) throw new XmlError("'<' in an attribute value", i);
        if (an in attrs) throw new XmlError(`duplicate attribute '${an}'`, i);
        // Attribute-value normalisation (§3.3.3): literal whitespace becomes a space.
        attrs[an] = decodeEntities(raw.replace(/[\t\n\r]/g, ' '), i);
        i = end + 1;
      }
      const parentScope = stack[stack.length - 1]?.scope ?? new Map<string, string>();
      const scope = new Map(parentScope);
      for (const [k, v] of Object.entries(attrs)) {
        if (k === 'xmlns') scope.set('', v);
        else if (k.startsWith('xmlns:')) scope.set(k.slice(6), v);
      }
      const frame: Frame = { qname, attrs, scope, children: [], text: '' };
      if (xml.startsWith('/>', i)) {
        i += 2;
        const parent = stack[stack.length - 1];
        const el = close(frame);
        if (parent) parent.children.push(el);
        else root = el;
      } else {
        i++;
        stack.push(frame);
      }
    } else {
      const end = xml.indexOf('<', i);
      const stop = end < 0 ? n : end;
      const raw = xml.slice(i, stop);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(raw, i);
      else if (raw.trim() !== '') throw new XmlError('text outside the root element', i);
      i = stop;
    }
  }
  if (stack.length > 0) throw new XmlError(`unclosed element <${stack[stack.length - 1]?.qname}>`, i);
  if (!root) throw new XmlError('no root element', i);
  return root;
}

/** Escapes text for an attribute value or element content. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;'));
}
