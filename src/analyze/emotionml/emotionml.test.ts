import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AFFECT_SOURCES, type Affect } from '../../core/affect.ts';
import {
  DIMENSION_SETS,
  EMOTIONML_NS,
  EmotionMLImportError,
  checkDimensionVocabulary,
  exportAffects,
  exportEmotionML,
  importAffects,
  importEmotionML,
} from './emotionml.ts';
import { parseXml } from './parseXml.ts';
import { CONFORMANCE_DIR, validateEmotionML as validateWithWasm } from './validateEmotionML.ts';

const vocabularyDoc = readFileSync(join(CONFORMANCE_DIR, 'emotion-voc.emotionml'), 'utf8');

const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

/** Validates with Debian's `xmllint` CLI (libxml2-utils). */
function validateWithCli(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'attune-emotionml-'));
  try {
    const file = join(dir, 'doc.emotionml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', join(CONFORMANCE_DIR, 'emotionml.xsd'), file], { encoding: 'utf8' });
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

  it.each(['fsre', 'pad'] as const)('validates against the EmotionML 1.0 schema (xmllint-wasm), %s', async (set) => {
    const xml = exportAffects(sample, { dimensionSet: set });
    const r = await validateWithWasm(xml);
    expect(r.errors).toEqual([]);
    expect(r.valid).toBe(true);
    expect(checkDimensionVocabulary(parseXml(xml))).toEqual([]);
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

  it('rejects a dimension name outside the declared dimension-set', () => {
    const bad = exportAffects(sample).replace('name="valence"', 'name="pleasure"');
    expect(() => importEmotionML(bad)).toThrow(EmotionMLImportError);
    expect(checkDimensionVocabulary(parseXml(bad))[0]).toMatch(/'pleasure' is not in .*fsre-dimensions/);
  });

  it('rejects malformed XML, DOCTYPEs and foreign roots', () => {
    expect(() => importEmotionML('<emotionml version="1.0"')).toThrow();
    expect(() => importEmotionML('<!DOCTYPE x [<!ENTITY a "b">]><x/>')).toThrow(/DOCTYPE/);
    expect(() => importEmotionML('<svg xmlns="http://www.w3.org/2000/svg"/>')).toThrow(EmotionMLImportError);
  });

  it('ignores attune info that disagrees with the standard values', () => {
    const xml = exportAffects([{ valence: 0.5, arousal: 0.5, confidence: 1, source: 'tap', at: 1 }]).replace('valence="0.5" arousal', 'valence="-0.9" arousal');
    expect(importAffects(xml)[0]?.valence).toBe(0.5);
  });
});
