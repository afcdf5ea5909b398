/**
 * Affect records ↔ W3C EmotionML 1.0.
 *
 * Export: one `<emotionml>` document whose `dimension-set` is the fsre (valence, arousal) or
 * PAD (pleasure, arousal) vocabulary of the W3C "Vocabularies for EmotionML". Each record is an
 * `<emotion>` with two `<dimension>`s; values are rescaled from attune's [-1, 1] to EmotionML's
 * [0, 1] scale as x ↦ (x + 1) / 2, and the record's confidence goes on each dimension's
 * `confidence`. Where a record came from is the emotion's `expressed-through` modality (text →
 * `text`, tap → `gesture`, heart → `physiology`), and when it was is `start` (epoch ms, as
 * EmotionML's absolute times are).
 *
 * Import checks first (`checkEmotionML.ts`: well-formedness, then every machine-checkable
 * EmotionML 1.0 assertion) and refuses a bad document with the assertion and the line:column,
 * then reads that back — from any dimension vocabulary with valence (or pleasure) and arousal,
 * and from EmotionML embedded in EMMA, SSML or SMIL when asked. Rescaling through [0, 1] is
 * not exactly invertible in binary floating point ((0.1 + 1) / 2 · 2 − 1 ≠ 0.1), so each
 * emotion also carries its exact values in an
 * `<info>` child in attune's own namespace, which EmotionML allows for application data;
 * import uses them when they agree with the standard values, so export → import is lossless,
 * while any other EmotionML reader sees ordinary dimensions.
 *
 * Sources: W3C Recommendation "Emotion Markup Language (EmotionML) 1.0", 22 May 2014, §2.2.1
 * (`<emotion>`, `start`, `expressed-through`), §2.3 (`<dimension>`, `confidence`, scale values),
 * §2.1.2 (`<info>`), §3.1 (vocabulary references); W3C Note "Vocabularies for EmotionML",
 * 1 April 2014, §3.1 (FSRE dimensions), §3.2 (PAD dimensions).
 */
import type { Affect, AffectSource } from '../../core/affect.ts';
import type { AssertionId } from './assertions.ts';
import { type CheckOptions, checkEmotionML } from './checkEmotionML.ts';
import { escapeXml, parseXml, type XmlElement, XmlError, type XmlPosition } from './parseXml.ts';
import { EMOTIONML_NS, collapse } from './vocabulary.ts';
import { parseScaleValue } from './xsdTypes.ts';

export { EMOTIONML_NS };

/** attune's namespace for exact values inside `<info>`. */
export const ATTUNE_EMOTIONML_NS = 'urn:attune:emotionml:1';

/** Dimension vocabularies attune can export with. */
export const DIMENSION_SETS = {
  fsre: {
    uri: 'http://www.w3.org/TR/emotion-voc/xml#fsre-dimensions',
    names: ['valence', 'potency', 'arousal', 'unpredictability'],
    valence: 'valence',
    arousal: 'arousal',
  },
  pad: {
    uri: 'http://www.w3.org/TR/emotion-voc/xml#pad-dimensions',
    names: ['pleasure', 'arousal', 'dominance'],
    valence: 'pleasure',
    arousal: 'arousal',
  },
} as const;

/** A dimension vocabulary key. */
export type DimensionSetName = keyof typeof DIMENSION_SETS;

/** An affect record to export; `source` and `at` may be absent (e.g. a bare text analysis). */
export interface EmotionRecord {
  readonly valence: number;
  readonly arousal: number;
  readonly confidence: number;
  readonly source?: AffectSource;
  readonly at?: number;
  /** Optional id (an XML NCName), e.g. `line-12`. */
  readonly id?: string;
}

/** Options for {@link exportEmotionML}. */
export interface ExportOptions {
  /** Which dimension vocabulary (default `fsre`). */
  readonly dimensionSet?: DimensionSetName;
}

const MODALITY: Readonly<Record<AffectSource, string>> = { text: 'text', tap: 'gesture', heart: 'physiology' };
const SOURCE_OF: Readonly<Record<string, AffectSource>> = { text: 'text', gesture: 'tap', physiology: 'heart' };

/** [-1, 1] → [0, 1]. */
export function toScale(x: number): number {
  const y = (x + 1) / 2;
  return y < 0 ? 0 : y > 1 ? 1 : y;
}

/** [0, 1] → [-1, 1]. */
export function fromScale(y: number): number {
  return y * 2 - 1;
}

function num(x: number): string {
  // Shortest round-trip decimal; never exponent-free issues for xs:float (it accepts 1e-7).
  return Object.is(x, -0) ? '0' : String(x);
}

/** One `<emotion>` element (no XML declaration), indented by two spaces. */
export function emotionElement(r: EmotionRecord, set: DimensionSetName = 'fsre'): string {
  const vocab = DIMENSION_SETS[set];
  const attrs: string[] = [];
  if (r.id !== undefined) attrs.push(`id="${escapeXml(r.id)}"`);
  const startOk = r.at !== undefined && Number.isSafeInteger(r.at) && r.at >= 0;
  if (startOk) attrs.push(`start="${r.at}"`);
  if (r.source !== undefined) attrs.push(`expressed-through="${MODALITY[r.source]}"`);
  const conf = num(r.confidence);
  const exact = [`valence="${num(r.valence)}"`, `arousal="${num(r.arousal)}"`];
  if (r.at !== undefined && !startOk) exact.push(`at="${num(r.at)}"`);
  return [
    `  <emotion${attrs.length ? ` ${attrs.join(' ')}` : ''}>`,
    `    <info><attune:affect xmlns:attune="${ATTUNE_EMOTIONML_NS}" ${exact.join(' ')}/></info>`,
    `    <dimension name="${vocab.valence}" value="${num(toScale(r.valence))}" confidence="${conf}"/>`,
    `    <dimension name="${vocab.arousal}" value="${num(toScale(r.arousal))}" confidence="${conf}"/>`,
    '  </emotion>',
  ].join('\n');
}

/** The opening of a document (for streaming writers): XML declaration and `<emotionml>` tag. */
export function documentHead(set: DimensionSetName = 'fsre'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<emotionml xmlns="${EMOTIONML_NS}" version="1.0" dimension-set="${DIMENSION_SETS[set].uri}">\n`;
}

/** The closing tag of a document. */
export const DOCUMENT_TAIL = '</emotionml>\n';

/**
 * Exports records as one EmotionML 1.0 document. Values must be finite and in range (see
 * `checkAffect`); confidence is clamped into [0, 1] defensively.
 */
export function exportEmotionML(records: readonly EmotionRecord[], opts: ExportOptions = {}): string {
  const set = opts.dimensionSet ?? 'fsre';
  let out = documentHead(set);
  for (const r of records) out += `${emotionElement({ ...r, confidence: Math.min(1, Math.max(0, r.confidence)) }, set)}\n`;
  return out + DOCUMENT_TAIL;
}

/** A reason a document cannot be imported: malformed XML (no assertion) or a broken assertion. */
export interface ImportProblem extends XmlPosition {
  /** The EmotionML assertion broken, if it is one. */
  readonly assertion?: AssertionId;
  /** Set for a well-formedness error; a problem with neither is attune's (e.g. no source). */
  readonly xml?: true;
  readonly message: string;
}

/** Thrown when an EmotionML document cannot be imported; carries every problem found, with positions. */
export class EmotionMLImportError extends Error {
  readonly problems: readonly ImportProblem[];
  constructor(problems: readonly ImportProblem[]) {
    const [first] = problems;
    const tag = (p: ImportProblem): string => (p.assertion !== undefined ? `[EmotionML ${p.assertion}]` : p.xml ? '[XML]' : '[attune]');
    const head = first === undefined ? 'not importable' : `${first.line}:${first.column}: ${tag(first)} ${first.message}`;
    super(problems.length > 1 ? `${head} (and ${problems.length - 1} more)` : head);
    this.name = 'EmotionMLImportError';
    this.problems = problems;
  }
}

/** Options for {@link readEmotionML}: as for the checker (embedded EmotionML, vocabulary loader). */
export type ImportOptions = CheckOptions;

/** An `<emotion>` that is valid EmotionML but is no affect record, and why. */
export interface SkippedEmotion extends XmlPosition {
  readonly reason: string;
}

/** The records read, and the valid emotions that did not map to one. */
export interface EmotionMLImport {
  readonly records: EmotionRecord[];
  /** Where each record's `<emotion>` starts (`positions[i]` belongs to `records[i]`). */
  readonly positions: XmlPosition[];
  readonly skipped: SkippedEmotion[];
}

/**
 * Reads affect records from an EmotionML document, after checking it: a document that is not
 * well-formed or breaks any EmotionML 1.0 assertion is refused with an {@link EmotionMLImportError}
 * naming the assertion and the line:column (it never yields a silently empty result). Each
 * `<emotion>` whose dimension vocabulary has a valence-like item (`valence`, or `pleasure` as in
 * PAD) and `arousal`, both given as values, becomes one record — whichever vocabulary it is (W3C,
 * in-document or loaded); other emotions are listed in `skipped` with the reason. Confidence is
 * the two dimensions' (their mean if they differ; 1 when neither has one, since an annotation
 * without a confidence is asserted as is).
 *
 * The XML Schema itself (assertion 100) is checked by `validateEmotionML` (libxml2, async); the
 * checker here enforces the schema's structure as well, and the tests hold the two in agreement.
 */
export function readEmotionML(xml: string, opts: ImportOptions = {}): EmotionMLImport {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) throw new EmotionMLImportError([{ xml: true, message: `not well-formed XML: ${e.reason}`, line: e.line, column: e.column }]);
    throw e;
  }
  const check = checkEmotionML(root, opts);
  if (check.violations.length > 0) throw new EmotionMLImportError(check.violations);
  const records: EmotionRecord[] = [];
  const positions: XmlPosition[] = [];
  const skipped: SkippedEmotion[] = [];
  for (const { element: e, vocabularies } of check.emotions) {
    const skip = (reason: string): void => {
      skipped.push({ reason, line: e.line, column: e.column });
    };
    const set = vocabularies.dimension;
    const dimensionElements = e.children.filter((c) => c.ns === EMOTIONML_NS && c.name === 'dimension');
    if (!set || dimensionElements.length === 0) {
      skip('no dimensions (categories, appraisals or action tendencies only)');
      continue;
    }
    const vName = set.items.has('valence') ? 'valence' : set.items.has('pleasure') ? 'pleasure' : undefined;
    if (vName === undefined || !set.items.has('arousal')) {
      skip(`dimension vocabulary '${set.id}' has no valence (or pleasure) and arousal`);
      continue;
    }
    const dims = new Map(dimensionElements.map((d) => [collapse(d.attrs.name ?? ''), d]));
    const vd = dims.get(vName);
    const ad = dims.get('arousal');
    if (!vd || !ad) {
      skip(`no ${vd ? 'arousal' : vName} dimension`);
      continue;
    }
    // The checker has established that these are scale values when present.
    const vs = vd.attrs.value === undefined ? undefined : parseScaleValue(vd.attrs.value);
    const as = ad.attrs.value === undefined ? undefined : parseScaleValue(ad.attrs.value);
    if (vs === undefined || as === undefined) {
      skip('a dimension is given as a <trace>, not a value');
      continue;
    }
    const confs = [vd.attrs.confidence, ad.attrs.confidence].filter((c): c is string => c !== undefined).map((c) => parseScaleValue(c) as number);
    let confidence = confs.length === 0 ? 1 : confs.reduce((s, c) => s + c, 0) / confs.length;
    if (confs.length === 2 && confs[0] === confs[1]) confidence = confs[0] as number;
    let valence = fromScale(vs);
    let arousal = fromScale(as);
    let at: number | undefined = e.attrs.start === undefined ? undefined : Number(collapse(e.attrs.start));
    // attune's exact values, used only when they agree with the standard ones.
    const info = e.children.find((c) => c.ns === EMOTIONML_NS && c.name === 'info');
    const exact = info?.children.find((c) => c.ns === ATTUNE_EMOTIONML_NS && c.name === 'affect');
    if (exact) {
      const xv = Number(exact.attrs.valence);
      const xa = Number(exact.attrs.arousal);
      const agree = (x: number, std: number): boolean => Number.isFinite(x) && Math.abs(toScale(x) - toScale(std)) <= 1e-6;
      if (agree(xv, valence) && agree(xa, arousal)) {
        valence = xv;
        arousal = xa;
      }
      const xat = exact.attrs.at;
      if (xat !== undefined && at === undefined && Number.isFinite(Number(xat))) at = Number(xat);
    }
    const modality = collapse(e.attrs['expressed-through'] ?? '').split(' ')[0] ?? '';
    const source = Object.hasOwn(SOURCE_OF, modality) ? SOURCE_OF[modality] : undefined;
    const rec: { -readonly [K in keyof EmotionRecord]: EmotionRecord[K] } = { valence, arousal, confidence };
    if (source !== undefined) rec.source = source;
    if (at !== undefined) rec.at = at;
    if (e.attrs.id !== undefined) rec.id = collapse(e.attrs.id);
    records.push(rec);
    positions.push({ line: e.line, column: e.column });
  }
  return { records, positions, skipped };
}

/** {@link readEmotionML}'s records (the skipped emotions dropped). */
export function importEmotionML(xml: string, opts: ImportOptions = {}): EmotionRecord[] {
  return readEmotionML(xml, opts).records;
}

/** Exports full affect records (all fields present). */
export function exportAffects(records: readonly Affect[], opts: ExportOptions = {}): string {
  return exportEmotionML(records, opts);
}

/** Imports records that carry a source and a time as full affect records; throws otherwise. */
export function importAffects(xml: string, opts: ImportOptions = {}): Affect[] {
  const { records, positions } = readEmotionML(xml, opts);
  const missing = records.flatMap((r, k) => (r.source === undefined || r.at === undefined ? [{ ...(positions[k] as XmlPosition), message: 'an affect record needs a source (expressed-through text, gesture or physiology) and a time (start)' }] : []));
  if (missing.length > 0) throw new EmotionMLImportError(missing);
  return records.map((r) => ({ valence: r.valence, arousal: r.arousal, confidence: r.confidence, source: r.source as AffectSource, at: r.at as number }));
}
