/**
 * The XML reader: saxes decides well-formedness (XML 1.0 Fifth Edition, Namespaces in XML 1.0);
 * these tests pin the behaviour the EmotionML importer relies on, with the XML spec's
 * well-formedness constraints in the titles.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEmotionML } from './checkEmotionML.ts';
import { EmotionMLImportError, importEmotionML } from './emotionml.ts';
import { decodeXmlBytes, MAX_DEPTH, parseXml, XmlError } from './parseXml.ts';

function error(xml: string): { line: number; column: number; reason: string } {
  try {
    parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) return { line: e.line, column: e.column, reason: e.reason };
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(xml)}`);
}

describe('parseXml refuses what is not well-formed XML', () => {
  it.each([
    ['[XML §2.4] an unescaped & in content', '<a>fish & chips</a>', 1, 9, /'&' does not start a reference/],
    ['[XML §2.4] an unescaped & in an attribute value', '<a b="x & y"/>', 1, 9, /'&' does not start a reference/],
    ['[XML §4.1 WFC: Legal Character] &#0;', '<a>&#0;</a>', 1, 7, /malformed character entity/],
    ['[XML §2.4] ]]> in content', '<a>]]></a>', 1, 6, /"]]>" is disallowed/],
    ['[XML §2.2] U+0001 in content', '<a>\u0001</a>', 1, 4, /disallowed character/],
    ['[XML §2.2] U+0001 in an attribute', '<a b="\u0001"/>', 1, 7, /disallowed character/],
    ['[XML §3 WFC: Element Type Match] a mismatched end tag', '<a></b>', 1, 7, /unexpected close tag/],
    ['[XML §3.1 WFC: Unique Att Spec] a duplicate attribute', '<a b="1" b="2"/>', 1, 16, /duplicate attribute/],
    ['[XML §2.1] a second root', '<a/><b/>', 1, 7, /only one root/],
    ['[XML §4.1 WFC: Entity Declared] an undefined entity', '<a>&nbsp;</a>', 1, 9, /undefined entity/],
    ['[Namespaces §5] an unbound prefix', '<p:a/>', 1, 6, /unbound namespace prefix/],
    ['a DOCTYPE (not accepted: its defaults and entities would not be applied)', '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', 1, 1, /DOCTYPE is not accepted/],
    ['an empty document', '', 1, 1, /./],
  ])('%s', (_, xml, line, column, reason) => {
    const e = error(xml);
    expect(e.reason).toMatch(reason);
    expect([e.line, e.column]).toEqual([line, column]);
  });

  it(`refuses elements nested deeper than ${MAX_DEPTH} levels (the tree walks stay off the stack's end)`, () => {
    expect(parseXml(`${'<a>'.repeat(MAX_DEPTH)}${'</a>'.repeat(MAX_DEPTH)}`).name).toBe('a');
    const deep = `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`;
    expect(error(deep)).toMatchObject({ line: 1, column: MAX_DEPTH * 3 + 1, reason: `elements nest deeper than ${MAX_DEPTH} levels` });
  });

  it('puts the bare & where it is, not at the next ; or the end', () => {
    expect(error('<a>\n  <b>R&D</b>\n  <c>&amp;</c>\n</a>')).toMatchObject({ line: 2, column: 7 });
  });
});

describe('parseXml reads what is well-formed', () => {
  it('resolves namespaces, decodes references, keeps CDATA, comments and PIs out of the tree', () => {
    const root = parseXml('<?xml version="1.0"?>\n<r xmlns="urn:d" xmlns:p="urn:p"><!-- & --><?pi & ?><p:c p:x="&lt;&#x41;&#66;" y=\'"\'>t<![CDATA[&<]]></p:c></r>');
    expect([root.ns, root.name]).toEqual(['urn:d', 'r']);
    const c = root.children[0];
    expect([c?.ns, c?.name, c?.qname, c?.text]).toEqual(['urn:p', 'c', 'p:c', 't&<']);
    expect(c?.attrs).toEqual({ 'p:x': '<AB', y: '"' });
    expect(c?.nsAttrs).toEqual({ '{urn:p}x': '<AB', y: '"' });
  });

  it('gives every element and attribute a 1-based line and column (LF, CRLF and CR line ends)', () => {
    const root = parseXml('<a>\r\n  <b\n   c="1"/>\r<d  e = "2"/></a>');
    const [b, d] = root.children;
    expect([b?.line, b?.column, b?.attributes[0]?.line, b?.attributes[0]?.column]).toEqual([2, 3, 3, 4]);
    expect([d?.line, d?.column, d?.attributes[0]?.line, d?.attributes[0]?.column]).toEqual([4, 1, 4, 5]);
    const tight = parseXml('<a><b c="1"/><d/><d>x</d></a>');
    expect(tight.children.map((c) => [c.name, c.column])).toEqual([
      ['b', 4],
      ['d', 14],
      ['d', 18],
    ]);
    expect(tight.children[0]?.attributes[0]?.column).toBe(7);
  });

  it('normalises attribute whitespace and line ends as XML 1.0 §3.3.3 and §2.11 say', () => {
    const root = parseXml('<a b="x\ty\nz">1\r\n2\r3</a>');
    expect(root.attrs.b).toBe('x y z');
    expect(root.text).toBe('1\n2\n3');
  });

  it('accepts a byte-order mark', () => {
    expect(parseXml('\uFEFF<a/>').name).toBe('a');
  });
});

describe('decodeXmlBytes', () => {
  it('[XML §4.3.3] reads UTF-8 and UTF-16 with a byte-order mark', () => {
    expect(decodeXmlBytes(new TextEncoder().encode('<a>é</a>'))).toBe('<a>é</a>');
    const le = Uint8Array.from([0xff, 0xfe, ...[...'<a/>'].flatMap((c) => [c.charCodeAt(0), 0])]);
    expect(decodeXmlBytes(le)).toBe('<a/>');
  });

  it('refuses invalid UTF-8 and encodings it does not read, rather than guessing', () => {
    expect(() => decodeXmlBytes(Uint8Array.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]))).toThrow(/not valid UTF-8/);
    expect(() => decodeXmlBytes(new TextEncoder().encode('<?xml version="1.0" encoding="ISO-8859-1"?><a/>'))).toThrow(/ISO-8859-1/);
  });
});

describe('robustness', () => {
  const piece = fc.constantFrom(
    '<emotionml xmlns="http://www.w3.org/2009/10/emotionml" version="1.0">',
    '</emotionml>',
    '<emotion>',
    '</emotion>',
    '<dimension name="valence" value="0.5"/>',
    '<category name="anger"/>',
    ' dimension-set="#v"',
    '<vocabulary type="dimension" id="v"><item name="valence"/></vocabulary>',
    '<info>',
    '</info>',
    '&amp;',
    '&',
    '<!--',
    '-->',
    '<![CDATA[',
    ']]>',
    '"',
    '>',
    '<',
    'x',
    '\u0001',
    '\uD800',
  );
  it('on any input, parseXml returns a tree or throws XmlError, and import returns or throws EmotionMLImportError (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), fc.string({ maxLength: 60 })), (xml) => {
        try {
          const root = parseXml(xml);
          checkEmotionML(root);
          checkEmotionML(root, { embedded: true });
        } catch (e) {
          expect(e).toBeInstanceOf(XmlError);
        }
        try {
          importEmotionML(xml);
        } catch (e) {
          expect(e).toBeInstanceOf(EmotionMLImportError);
        }
      }),
      { seed: 1404, numRuns: 2000 },
    );
  });
});
