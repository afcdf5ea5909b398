/**
 * Themes (SPEC ST9): the words and two-word phrases that recur across a room's approved stories,
 * for the gathering display's slowly changing cloud. Pure; O(total characters) per call.
 *
 * The rule: a term is a theme only when at least {@link THEME_MIN_STORIES} *different* stories
 * use it (a story repeating a word counts once). Before counting, a story's words are
 * lower-cased and
 * - stop words are removed (a short English list below: function words, pronouns, auxiliaries,
 *   and the fillers people write in stories — "really", "just", "thing"),
 * - words shorter than 3 letters and anything with a digit are removed,
 * - names are removed: a word written with a capital letter anywhere but at the start of a
 *   sentence in any story (so "Maria" or "Sheffield" never shows, even lower-cased elsewhere),
 *   and every word of the authors' pseudonyms. This is a heuristic; it errs towards removing
 *   proper nouns that are not names ("Monday"), which costs a theme, never a person.
 * Phrases are two adjacent kept words in the same sentence.
 *
 * Word boundaries come from `Intl.Segmenter` (UAX #29), so scripts without spaces between
 * words still split (as well as the platform's dictionaries allow).
 */

/** A term must be used by at least this many different stories to be a theme. */
export const THEME_MIN_STORIES = 3;
/** At most this many themes are shown (the most widely used first). */
export const MAX_THEMES = 24;

/** One theme: the term and how many different stories use it. */
export interface Theme {
  readonly term: string;
  readonly stories: number;
}

/** What the theme rule reads of a story. */
export interface ThemeSource {
  readonly text: string;
  /** The author's pseudonym, if shown with one (its words are names). */
  readonly name?: string | null;
}

// Function words and story fillers (a compact list after the common English stop lists, e.g.
// the SMART list of Salton's system, trimmed to words that are never a theme on their own).
const STOP = new Set(
  `a about above after again against all almost also although always am among an and another any anyone anything are aren't around as at away back be became because been before being below between both but by came can can't cannot come could couldn't did didn't do does doesn't doing don't done down during each else even ever every everyone everything few for from get gets getting got had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's its itself just know let let's like made make many may me might more most much must my myself never no nor not nothing now of off often on once one only or other others our ours ourselves out over own really said same say see seemed she she'd she'll she's should shouldn't since so some someone something still such take than that that's the their theirs them themselves then there there's these they they'd they'll they're they've thing things this those though through to too took under until up upon us very was wasn't way we we'd we'll we're we've well went were weren't what what's when when's where where's whether which while who who's whom why why's will with within without won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves day days time times lot lots bit kind sort maybe actually went going gone want wanted felt feel feels feeling think thought`.split(
    ' ',
  ),
);

const words = new Intl.Segmenter('en', { granularity: 'word' });
const sentences = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Folds typographic apostrophes so "don’t" is the stop word "don't". */
function fold(w: string): string {
  return w.replace(/[\u2018\u2019\u02bc]/g, "'").toLowerCase();
}

/** The sentences of a text, each as its word-like segments in order. */
function wordsBySentence(text: string): string[][] {
  const out: string[][] = [];
  for (const s of sentences.segment(text)) {
    const ws: string[] = [];
    for (const w of words.segment(s.segment)) if (w.isWordLike) ws.push(w.segment);
    if (ws.length > 0) out.push(ws);
  }
  return out;
}

/** Lower-cased words that look like names anywhere in these stories (see the header). */
export function namesIn(sources: readonly ThemeSource[]): Set<string> {
  const names = new Set<string>();
  for (const s of sources) {
    for (const w of words.segment(s.name ?? '')) if (w.isWordLike) names.add(fold(w.segment));
    for (const sentence of wordsBySentence(s.text)) {
      sentence.forEach((w, i) => {
        // Capitalised (first letter upper, the word not all capitals like "OK"), not sentence-initial.
        if (i > 0 && /^\p{Lu}/u.test(w) && w !== w.toUpperCase() && fold(w) !== 'i') names.add(fold(w));
      });
    }
  }
  return names;
}

function keep(w: string, names: ReadonlySet<string>): boolean {
  return w.length >= 3 && !/\p{N}/u.test(w) && !STOP.has(w) && !names.has(w);
}

/** The distinct terms (words and two-word phrases) one story contributes, after removals. */
export function termsOf(text: string, names: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const sentence of wordsBySentence(text)) {
    let prev: string | null = null;
    for (const raw of sentence) {
      const w = fold(raw);
      if (!keep(w, names)) {
        prev = null;
        continue;
      }
      out.add(w);
      if (prev !== null) out.add(`${prev} ${w}`);
      prev = w;
    }
  }
  return out;
}

/**
 * The themes of a set of stories: every term used by at least `minStories` (≥ 3) different
 * stories, most widely used first (ties: alphabetical), at most `max`. A phrase is preferred
 * over its words only by its count; both may show.
 */
export function themesOf(sources: readonly ThemeSource[], opts: { readonly minStories?: number; readonly max?: number } = {}): Theme[] {
  const min = Math.max(THEME_MIN_STORIES, opts.minStories ?? THEME_MIN_STORIES);
  const names = namesIn(sources);
  const counts = new Map<string, number>();
  for (const s of sources) for (const t of termsOf(s.text, names)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const out: Theme[] = [];
  for (const [term, stories] of counts) if (stories >= min) out.push({ term, stories });
  out.sort((a, b) => b.stories - a.stories || (a.term < b.term ? -1 : a.term > b.term ? 1 : 0));
  return out.slice(0, opts.max ?? MAX_THEMES);
}
