import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namesIn, termsOf, THEME_MIN_STORIES, themesOf } from './themes.ts';

describe('themes (SPEC ST9)', () => {
  it('[ST9] a word is a theme only when ≥ 3 different stories use it; repeats inside one story count once', () => {
    const t = themesOf([{ text: 'water water water water' }, { text: 'the water rose' }, { text: 'boats and rain' }, { text: 'rain again, rain' }, { text: 'rain and water' }]);
    expect(t).toEqual([
      { term: 'rain', stories: 3 },
      { term: 'water', stories: 3 },
    ]);
  });

  it('[ST9] removes stop words, short words, numbers, names written with a capital mid-sentence, and pseudonyms', () => {
    const stories = [
      { text: 'We met Maria at the shelter. It was cold.', name: null },
      { text: 'maria brought blankets to the shelter.', name: 'Oak' },
      { text: 'The shelter was warm; oak trees fell. We had 12 cots.', name: null },
    ];
    expect(namesIn(stories)).toEqual(new Set(['maria', 'oak']));
    const terms = themesOf(stories).map((x) => x.term);
    expect(terms).toEqual(['shelter']);
  });

  it('[ST9] two-word phrases count like words', () => {
    const stories = ['The front door gave way.', 'Our front door floated.', 'I painted the front door blue.'].map((text) => ({ text }));
    expect(themesOf(stories).map((x) => x.term)).toEqual(['door', 'front', 'front door']);
    expect(termsOf("Don’t stop the music", new Set())).toEqual(new Set(['stop', 'music']));
  });

  it('[ST9] property: no theme is used by fewer than 3 different stories', () => {
    const vocab = ['river', 'water', 'roof', 'boats', 'neighbours', 'Maria', 'the', 'and', 'cold', 'warm', 'front', 'door', '.', ','];
    const story = fc.array(fc.constantFrom(...vocab), { minLength: 0, maxLength: 25 }).map((ws) => ws.join(' '));
    fc.assert(
      fc.property(fc.array(fc.record({ text: story, name: fc.option(fc.constantFrom('River', 'Oak', 'warm'), { nil: null }) }), { maxLength: 12 }), (stories) => {
        const names = namesIn(stories);
        for (const theme of themesOf(stories)) {
          const users = stories.filter((s) => termsOf(s.text, names).has(theme.term)).length;
          if (users < THEME_MIN_STORIES || users !== theme.stories) return false;
          // …and a theme never names an author or a capitalised name.
          if (theme.term.split(' ').some((w) => names.has(w))) return false;
        }
        return true;
      }),
      { numRuns: 500, seed: 16 },
    );
  });
});
