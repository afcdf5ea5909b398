import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TEXT_CONFIDENCE, UNKNOWN_TEXT_CONFIDENCE, analyzeText, createTextAnalyzer, loadTextModel } from './analyzeText.ts';
import { sharedMaterial } from '../../../test/support/shared.ts';
import { readEmoBank } from './emobank.ts';
import { scoreAnalyzer } from './evaluate.ts';

const provenance = JSON.parse(readFileSync(new URL('./PROVENANCE.json', import.meta.url), 'utf8')) as {
  bytes: number;
  dev: { pearsonValence: number; pearsonArousal: number };
};

describe('analyzeText', () => {
  it('always returns finite values in range, for any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.lorem({ maxCount: 30 })), (s) => {
        const r = analyzeText(s);
        for (const x of [r.valence, r.arousal]) {
          expect(Number.isFinite(x)).toBe(true);
          expect(Math.abs(x)).toBeLessThanOrEqual(1);
        }
        expect(r.confidence).toBeGreaterThanOrEqual(0);
        expect(r.confidence).toBeLessThanOrEqual(MAX_TEXT_CONFIDENCE);
      }),
      { seed: 424242, numRuns: 2000 },
    );
  });

  it('is deterministic: same text, same answer, across calls and analyser instances (property)', () => {
    const other = createTextAnalyzer(loadTextModel());
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), (s) => {
        const a = analyzeText(s);
        expect(analyzeText(s)).toEqual(a);
        expect(other(s)).toEqual(a);
      }),
      { seed: 99, numRuns: 500 },
    );
  });

  it('gives confidence 0 and neutral affect for empty, blank or punctuation-only text', () => {
    for (const s of ['', '   ', '\t', '..."', '?!']) expect(analyzeText(s)).toEqual({ valence: 0, arousal: 0, confidence: 0 });
  });

  it('gives low confidence and near-neutral affect when no word is known', () => {
    for (const s of ['xqzvb plorkt', 'zzxq', 'qwrtpsdf mnbvcxz lkjhgf']) {
      const r = analyzeText(s);
      expect(r.confidence).toBeLessThanOrEqual(UNKNOWN_TEXT_CONFIDENCE);
      expect(Math.abs(r.valence)).toBeLessThan(0.1);
      expect(Math.abs(r.arousal)).toBeLessThan(0.1);
    }
  });

  it('gains confidence with evidence', () => {
    expect(analyzeText('I am happy.').confidence).toBeLessThan(analyzeText('I am so happy and grateful for my wonderful friends today.').confidence);
  });

  it('orders obvious cases sensibly', () => {
    const happy = analyzeText('I am so happy, this is wonderful!');
    const sad = analyzeText('This is a terrible, miserable day and I hate it.');
    expect(happy.valence).toBeGreaterThan(0.2);
    expect(sad.valence).toBeLessThan(-0.2);
    expect(analyzeText('WOW!!! We won the championship!!!').arousal).toBeGreaterThan(analyzeText('I sat quietly and rested.').arousal);
  });

  it('handles negation: "not happy" is less pleasant than "happy"', () => {
    expect(analyzeText('I am not happy.').valence).toBeLessThan(analyzeText('I am happy.').valence);
    expect(analyzeText("It isn't good.").valence).toBeLessThan(analyzeText('It is good.').valence);
  });

  it('handles very long text', () => {
    const r = analyzeText('happy '.repeat(50_000));
    expect(r.valence).toBeGreaterThan(0);
    expect(r.confidence).toBeLessThanOrEqual(MAX_TEXT_CONFIDENCE);
  });
});

describe('the committed model', () => {
  it('is small (≤ 5 MB) and matches its provenance record', () => {
    const bytes = readFileSync(new URL('./model.bin', import.meta.url));
    expect(bytes.length).toBeLessThanOrEqual(5 * 1024 * 1024);
    expect(bytes.length).toBe(provenance.bytes);
  });

  const emobank = sharedMaterial('emobank');
  it.skipIf(!emobank.present)('reproduces the dev figures in PROVENANCE.json and reaches the arousal target (r ≥ 0.45)', () => {
    const s = scoreAnalyzer(readEmoBank('dev', emobank.dir), analyzeText);
    expect(s.valence).toBeCloseTo(provenance.dev.pearsonValence, 3);
    expect(s.arousal).toBeCloseTo(provenance.dev.pearsonArousal, 3);
    expect(s.arousal).toBeGreaterThanOrEqual(0.45);
    // The valence target is 0.65; the measured figure is recorded in PROVENANCE.json and
    // docs/text-analyser.md. This floor guards against regressions.
    expect(s.valence).toBeGreaterThanOrEqual(0.652);
  });
});
