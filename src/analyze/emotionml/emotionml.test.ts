import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AFFECT_SOURCES, type Affect } from '../../core/affect.ts';
import { sharedMaterial } from '../../../test/support/shared.ts';
import { checkEmotionML } from './checkEmotionML.ts';
import { DIMENSION_SETS, EMOTIONML_NS, EmotionMLImportError, exportAffects, exportEmotionML, importAffects, importEmotionML, readEmotionML } from './emotionml.ts';
import { parseXml } from './parseXml.ts';
import { W3C_DIR, validateEmotionML as validateWithWasm } from './validateEmotionML.ts';
import { W3C_VOCABULARIES } from './w3cVocabularies.ts';

const vocabularyDoc = readFileSync(join(W3C_DIR, 'emotion-voc.emotionml'), 'utf8');
const shared = sharedMaterial('emotionml');

const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

/** Validates with Debian's `xmllint` CLI (libxml2-utils). */
function validateWithCli(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'attune-emotionml-'));
  try {
    const file = join(dir, 'doc.emotionml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', join(W3C_DIR, 'emotionml.xsd'), file], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dimension names per vocabulary id, read from the W3C vocabulary document itself. */
function vocabularyItems(id: string): string[] {
  const root = parseXml(vocabularyDoc);
  const v = root.children.find((c) => c.name === 'vocabulary' && c.attrs.id === id);
  if (!v) throw new Error(`no vocabulary ${id}`);
  return v.children.filter((c) => c.name === 'item').map((c) => c.attrs.name ?? '');
}

const unit = fc.double({ min: -1, max: 1, noNaN: true });
const affectArb: fc.Arbitrary<Affect> = fc.record({
  valence: unit,
  arousal: unit,
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  source: fc.constantFrom(...AFFECT_SOURCES),
  at: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ min: -1e13, max: 1e13, noNaN: true })),
});

const sample: Affect[] = [
  { valence: 0.1, arousal: -0.3, confidence: 0.6, source: 'text', at: 1_763_856_000_000 },
  { valence: -1, arousal: 1, confidence: 1, source: 'tap', at: 0 },
  { valence: 0.333333, arousal: 0, confidence: 0, source: 'heart', at: 1_763_856_000_123 },
];

describe('EmotionML export', () => {
  it('matches the W3C vocabularies it names (fsre and pad dimension sets)', () => {
    expect([...DIMENSION_SETS.fsre.names]).toEqual(vocabularyItems('fsre-dimensions'));
    expect([...DIMENSION_SETS.pad.names]).toEqual(vocabularyItems('pad-dimensions'));
  });

  it('the bundled W3C vocabulary table is the W3C vocabulary document, all 12 vocabularies', () => {
    const root = parseXml(vocabularyDoc);
    const fromDoc = Object.fromEntries(
      root.children.filter((c) => c.name === 'vocabulary').map((v) => [v.attrs.id, { type: v.attrs.type, items: v.children.filter((c) => c.name === 'item').map((c) => c.attrs.name) }]),
    );
    expect(W3C_VOCABULARIES).toEqual(fromDoc);
    expect(Object.keys(fromDoc)).toHaveLength(12);
    expect(checkEmotionML(root).violations).toEqual([]);
  });

  it.skipIf(!shared.present)('the bundled W3C schema and vocabularies are the copies in ../shared, byte for byte', () => {
    for (const f of ['emotionml.xsd', 'emotionml-fragments.xsd', 'emotion-voc.emotionml']) {
      expect(readFileSync(join(W3C_DIR, f), 'utf8'), f).toBe(readFileSync(join(shared.dir, f), 'utf8'));
    }
  });

  it.each(['fsre', 'pad'] as const)('validates against the EmotionML 1.0 schema (xmllint-wasm), %s', async (set) => {
    const xml = exportAffects(sample, { dimensionSet: set });
    const r = await validateWithWasm(xml);
    expect(r.errors).toEqual([]);
    expect(r.valid).toBe(true);
    expect(checkEmotionML(parseXml(xml)).violations).toEqual([]);
  });

  it.skipIf(!hasXmllint)('validates with the xmllint CLI (libxml2-utils)', () => {
    for (const set of ['fsre', 'pad'] as const) {
      const r = validateWithCli(exportAffects(sample, { dimensionSet: set }));
      expect(r.stderr).toContain('validates');
      expect(r.status).toBe(0);
    }
  });

  it('the validator does reject what the schema forbids (a value outside [0, 1])', async () => {
    const bad = exportAffects(sample).replace(/value="[^"]*"/, 'value="1.5"');
    expect((await validateWithWasm(bad)).valid).toBe(false);
  });

  it('rescales [-1, 1] to [0, 1] and carries confidence, source and time', () => {
    const root = parseXml(exportAffects(sample));
    expect(root.ns).toBe(EMOTIONML_NS);
    expect(root.attrs['dimension-set']).toBe(DIMENSION_SETS.fsre.uri);
    const [e1, e2] = root.children;
    expect(e1?.attrs.start).toBe('1763856000000');
    expect(e1?.attrs['expressed-through']).toBe('text');
    expect(e2?.attrs['expressed-through']).toBe('gesture');
    const dims = e2?.children.filter((c) => c.name === 'dimension') ?? [];
    expect(dims.map((d) => [d.attrs.name, d.attrs.value, d.attrs.confidence])).toEqual([
      ['valence', '0', '1'],
      ['arousal', '1', '1'],
    ]);
  });

  it('validates and imports a 7 MB document (libxml2 in WebAssembly fails from about 5 MB with its default memory)', async () => {
    const many: Affect[] = Array.from({ length: 20_000 }, (_, i) => ({ valence: Math.sin(i), arousal: Math.cos(i), confidence: 0.5, source: 'text', at: i }));
    const xml = exportAffects(many);
    expect(xml.length).toBeGreaterThan(6_000_000);
    expect(await validateWithWasm(xml)).toMatchObject({ valid: true, errors: [] });
    expect(importAffects(xml)).toHaveLength(20_000);
  });

  it('exports an empty list as a valid empty document', async () => {
    expect((await validateWithWasm(exportEmotionML([]))).valid).toBe(true);
    expect(importEmotionML(exportEmotionML([]))).toEqual([]);
  });
});

describe('EmotionML import', () => {
  it('round-trips affect records without loss (property)', () => {
    fc.assert(
      fc.property(fc.array(affectArb, { maxLength: 8 }), fc.constantFrom('fsre' as const, 'pad' as const), (records, set) => {
        const back = importAffects(exportAffects(records, { dimensionSet: set }));
        expect(back).toEqual(records.map((r) => ({ ...r, valence: r.valence + 0, arousal: r.arousal + 0, confidence: r.confidence + 0, at: r.at + 0 })));
      }),
      { seed: 20141, numRuns: 300 },
    );
  });

  it('round-trips a few exported documents through the schema validator too (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(affectArb, { minLength: 1, maxLength: 4 }), async (records) => {
        expect((await validateWithWasm(exportAffects(records))).valid).toBe(true);
      }),
      { seed: 7, numRuns: 15 },
    );
  });

  it('reads plain EmotionML from other tools (no attune info)', () => {
    const xml = `<?xml version="1.0"?>
<emotionml xmlns="http://www.w3.org/2009/10/emotionml" version="1.0"
           dimension-set="http://www.w3.org/TR/emotion-voc/xml#pad-dimensions">
  <!-- a comment -->
  <emotion start="42" expressed-through="face physiology">
    <dimension name="pleasure" value="0.75" confidence="0.5"/>
    <dimension name="arousal" value="0.25"/>
    <dimension name="dominance" value="0.5"/>
  </emotion>
</emotionml>`;
    expect(importEmotionML(xml)).toEqual([{ valence: 0.5, arousal: -0.5, confidence: 0.5, at: 42 }]);
  });

  it('[EmotionML 222] rejects a dimension name outside the declared dimension-set, with the position', () => {
    const bad = exportAffects(sample).replace('name="valence"', 'name="pleasure"');
    expect(() => importEmotionML(bad)).toThrow(EmotionMLImportError);
    try {
      importEmotionML(bad);
    } catch (e) {
      const err = e as EmotionMLImportError;
      expect(err.problems[0]).toMatchObject({ assertion: 222, line: 5, column: 16 });
      expect(err.message).toMatch(/^5:16: \[EmotionML 222\] 'pleasure' is not in the dimension vocabulary 'fsre-dimensions'/);
    }
  });

  it.each([
    ['value=""', 'value=""'],
    ['value="0x1"', 'value="0x1"'],
    ['value="1.5"', 'value="1.5"'],
    ['value=" "', 'value=" "'],
  ])('[EmotionML 500] refuses %s instead of reading a number out of it', (_, v) => {
    const bad = exportAffects(sample).replace(/value="[^"]*"/, v);
    expect(() => importEmotionML(bad)).toThrow(/\[EmotionML 500\]/);
  });

  it('[EmotionML 110 117 156] refuses documents that break the assertions instead of yielding zero records', () => {
    const ns = `xmlns="${EMOTIONML_NS}"`;
    expect(() => importEmotionML(`<emotionml ${ns}/>`)).toThrow(/\[EmotionML 110\]/);
    expect(() => importEmotionML(`<emotionml ${ns} version="1.0" dimension-set="http://www.w3.org/TR/emotion-voc/xml#big6"/>`)).toThrow(/\[EmotionML 117\]/);
    expect(() => importEmotionML(`<emotionml ${ns} version="1.0"><emotion/></emotionml>`)).toThrow(/\[EmotionML 156\]/);
  });

  it('rejects XML that is not well-formed, with the position: & unescaped, &#0;, ]]> in content, U+0001', () => {
    const ok = exportAffects(sample.slice(0, 1));
    const cases: [string, RegExp][] = [
      [ok.replace('<emotion ', '<!-- & ok in a comment --><emotion ').replace('</emotionml>', 'fish & chips</emotionml>'), /^8:6: \[XML\] not well-formed XML: '&' does not start a reference/],
      [ok.replace('</emotionml>', '&#0;</emotionml>'), /^8:\d+: \[XML\] not well-formed XML: malformed character entity/],
      [ok.replace('</emotionml>', ']]></emotionml>'), /^8:\d+: \[XML\] not well-formed XML: the string "]]>" is disallowed/],
      [ok.replace('</emotionml>', '\u0001</emotionml>'), /^8:1: \[XML\] not well-formed XML: disallowed character/],
    ];
    for (const [xml, re] of cases) {
      expect(() => importEmotionML(xml)).toThrow(re);
      expect(() => parseXml(xml)).toThrow();
    }
    expect(importEmotionML(ok.replace('<emotion ', '<!-- & ok in a comment --><emotion '))).toHaveLength(1);
  });

  it('rejects malformed XML, DOCTYPEs and foreign roots', () => {
    expect(() => importEmotionML('<emotionml version="1.0"')).toThrow(EmotionMLImportError);
    expect(() => importEmotionML('<!DOCTYPE x [<!ENTITY a "b">]><x/>')).toThrow(/DOCTYPE/);
    expect(() => importEmotionML('<svg xmlns="http://www.w3.org/2000/svg"/>')).toThrow(/\[EmotionML 101\]/);
  });

  it('importAffects names the emotion that lacks a source or a time', () => {
    const xml = exportEmotionML([{ valence: 0, arousal: 0, confidence: 1, source: 'tap', at: 1 }, { valence: 0, arousal: 0, confidence: 1 }]);
    expect(() => importAffects(xml)).toThrow(/^8:3: \[attune\] an affect record needs a source/);
  });

  it('reads names that are also Object.prototype properties as plain data (constructor, __proto__)', () => {
    const xml = exportAffects(sample.slice(0, 1)).replace('expressed-through="text"', 'expressed-through="constructor"');
    expect(importEmotionML(xml)[0]?.source).toBeUndefined();
    const proto = parseXml('<a __proto__="x" constructor="y"/>');
    expect(Object.entries(proto.attrs)).toEqual([
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
    expect(checkEmotionML(parseXml('<x xmlns="constructor"/>'), { embedded: true })).toMatchObject({ host: 'unknown', violations: [{ assertion: 101 }] });
  });

  it('ignores attune info that disagrees with the standard values', () => {
    const xml = exportAffects([{ valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap', at: 1 }]).replace('valence="0.5" arousal', 'valence="-0.9" arousal');
    expect(importAffects(xml)[0]?.valence).toBe(0.5);
  });

  it('[EmotionML 117 222] imports other vocabularies: an in-document one; skips emotions without valence and arousal, saying why', () => {
    const xml = `<emotionml xmlns="${EMOTIONML_NS}" version="1.0" dimension-set="#va">
  <vocabulary type="dimension" id="va"><item name="valence"/><item name="arousal"/></vocabulary>
  <emotion id="a"><dimension name="valence" value="1"/><dimension name="arousal" value="0.25"/></emotion>
  <emotion dimension-set="http://www.w3.org/TR/emotion-voc/xml#intensity-dimension"><dimension name="intensity" value="0.3"/></emotion>
  <emotion category-set="http://www.w3.org/TR/emotion-voc/xml#big6"><category name="fear"/></emotion>
</emotionml>`;
    const r = readEmotionML(xml);
    expect(r.records).toEqual([{ valence: 1, arousal: -0.5, confidence: 1, id: 'a' }]);
    expect(r.skipped).toEqual([
      { line: 4, column: 3, reason: "dimension vocabulary 'intensity-dimension' has no valence (or pleasure) and arousal" },
      { line: 5, column: 3, reason: 'no dimensions (categories, appraisals or action tendencies only)' },
    ]);
  });

  it('[EmotionML 101] imports EmotionML embedded in EMMA when asked', () => {
    const emma = `<emma:emma version="1.0" xmlns:emma="http://www.w3.org/2003/04/emma" xmlns="${EMOTIONML_NS}">
  <emma:interpretation id="i1"><emotion dimension-set="http://www.w3.org/TR/emotion-voc/xml#pad-dimensions" start="7" expressed-through="voice"><dimension name="pleasure" value="0.75"/><dimension name="arousal" value="0.5" confidence="0.5"/></emotion></emma:interpretation>
</emma:emma>`;
    expect(() => importEmotionML(emma)).toThrow(/\[EmotionML 101\]/);
    expect(importEmotionML(emma, { embedded: true })).toEqual([{ valence: 0.5, arousal: 0, confidence: 0.5, at: 7 }]);
  });
});
