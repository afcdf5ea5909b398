import { describe, expect, it } from 'vitest';
import { DENSE_COUNT, DENSE_NAMES, type FeatureConfig, FeatureExtractor } from './features.ts';
import { fnvString } from './hash.ts';

const cfg: FeatureConfig = {
  bits: 16,
  words: true,
  bigrams: false,
  charMin: 0,
  charMax: 0,
  negation: true,
  intensifiers: true,
  lexicon: true,
  wordScale: 1,
  bigramScale: 1,
  charScale: 1,
};

function features(text: string, c: FeatureConfig = cfg): Map<number, number> {
  const fx = new FeatureExtractor(c);
  fx.extract(text);
  const m = new Map<number, number>();
  for (let k = 0; k < fx.count; k++) m.set(fx.index[k] as number, (m.get(fx.index[k] as number) ?? 0) + (fx.value[k] as number));
  return m;
}

const dense = (text: string): Record<string, number> => {
  const fx = new FeatureExtractor(cfg);
  fx.extract(text);
  return Object.fromEntries(DENSE_NAMES.map((n, i) => [n, fx.dense[i] as number]));
};

describe('FeatureExtractor', () => {
  it('names every dense slot', () => {
    expect(DENSE_NAMES.length).toBe(DENSE_COUNT);
  });

  it('is case-insensitive for words and treats apostrophes as part of a word', () => {
    expect(features('Happy DAY')).toEqual(features('happy day'));
    expect(features("don't")).toEqual(features('dont'));
    expect(features('don’t')).toEqual(features('dont'));
  });

  it('marks words in a negation scope, which ends at punctuation or a contrast', () => {
    const plain = features('i am happy');
    const negated = features('i am not happy');
    // "happy" after "not" is a different feature from plain "happy".
    const happyPlain = [...plain.keys()].filter((k) => !features('i am').has(k));
    expect(happyPlain.length).toBe(1);
    expect(negated.has(happyPlain[0] as number)).toBe(false);
    // After a comma the scope is closed again.
    const closed = features('not now, happy');
    expect(closed.has(happyPlain[0] as number)).toBe(true);
    // "n't" opens a scope too.
    expect(features("isn't happy").has(happyPlain[0] as number)).toBe(false);
    expect(features('not bad but happy').has(happyPlain[0] as number)).toBe(true);
  });

  it('applies VADER rules in the lexicon features: negation flips, boosters strengthen', () => {
    const good = dense('good')['vader.mean'] as number;
    expect(good).toBeGreaterThan(0);
    expect(dense('not good')['vader.mean']).toBeLessThan(0);
    expect(dense('very good')['vader.max']).toBeGreaterThan(dense('good')['vader.max'] as number);
    expect(dense('WOW!!!')['punct.exclamations']).toBe(3);
    expect(dense('WOW THIS IS LOUD')['case.capsRatio']).toBe(1);
  });

  it('produces character n-grams when enabled, all within the hash space', () => {
    const c = { ...cfg, charMin: 3, charMax: 5, bigrams: true };
    const fx = new FeatureExtractor(c);
    fx.extract('unbelievably wonderful afternoon');
    expect(fx.count).toBeGreaterThan(50);
    for (let k = 0; k < fx.count; k++) {
      expect(fx.index[k]).toBeGreaterThanOrEqual(DENSE_COUNT);
      expect(fx.index[k]).toBeLessThan(fx.dimension);
    }
  });

  it('grows its buffers for long inputs', () => {
    const fx = new FeatureExtractor({ ...cfg, charMin: 3, charMax: 5 });
    fx.extract('word '.repeat(5000));
    expect(fx.evidence.words).toBe(5000);
  });

  it('hashes stably (FNV-1a test vector)', () => {
    expect(fnvString('a')).toBe(0xe40c292c);
    expect(fnvString('foobar')).toBe(0xbf9cf968);
  });
});
