/**
 * The automatic first pass over a story (SPEC ST4): flags what a steward should look at first,
 * never drops anything. Built on obscenity 0.4.6 (MIT; its English dataset and recommended
 * transformers: leetspeak, confusable characters, repeated letters), tuned for the Scunthorpe
 * problem — words and places that contain a flagged word but are innocent — with
 * {@link WHITELIST}, and extended to the one evasion it misses, spaced-out letters
 * ("f u c k", "f.u.c.k"), by a second pass over runs of single letters joined up.
 *
 * A flag names the matched word (`profanity:fuck`): the steward sees why, the public log only
 * counts decisions (ST7), and the story is never changed.
 */
import { englishDataset, englishRecommendedTransformers, RegExpMatcher } from 'obscenity';

/**
 * Innocent terms obscenity 0.4.6's English dataset flags (each measured here; see
 * screenStory.test.ts): mushrooms, places (Penistone, Shitterton, Clitheroe is already fine),
 * people, and ordinary words.
 */
export const WHITELIST = ['shiitake', 'penistone', 'shitterton', 'dick van dyke', 'cockpit', 'cockpits', 'pussycat', 'pussycats', 'pussywillow', 'pussy willow'] as const;

const built = englishDataset.build();
const matcher = new RegExpMatcher({
  ...built,
  ...englishRecommendedTransformers,
  // Added to the dataset's own whitelist ("assassin", "cocktail" …), never replacing it.
  whitelistedTerms: [...(built.whitelistedTerms ?? []), ...WHITELIST],
});

function wordsMatched(text: string): string[] {
  const out = new Set<string>();
  for (const m of matcher.getAllMatches(text, true)) {
    const word = englishDataset.getPayloadWithPhraseMetadata(m).phraseMetadata?.originalWord;
    if (word) out.add(word);
  }
  return [...out];
}

/** Runs of ≥ 3 single letters separated by spaces, dots, dashes or underscores ("f u c k"), joined up. */
export function joinSpacedLetters(text: string): string[] {
  const runs: string[] = [];
  for (const m of text.matchAll(/(?<![\p{L}])\p{L}(?:[\s._\-*]+\p{L}(?![\p{L}])){2,}/gu)) runs.push(m[0].replace(/[^\p{L}]/gu, ''));
  return runs;
}

/** The flags of a story: `profanity:WORD` for each word found, sorted; [] when nothing was. */
export function screenStory(text: string): string[] {
  const found = new Set(wordsMatched(text));
  for (const run of joinSpacedLetters(text)) for (const w of wordsMatched(run)) found.add(w);
  return [...found].sort().map((w) => `profanity:${w}`);
}
