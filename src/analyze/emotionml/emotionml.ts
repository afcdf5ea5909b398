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
 * Import reads that back. Rescaling through [0, 1] is not exactly invertible in binary floating
 * point ((0.1 + 1) / 2 · 2 − 1 ≠ 0.1), so each emotion also carries its exact values in an
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
import { escapeXml, parseXml, type XmlElement } from './parseXml.ts';

/** The EmotionML namespace. */
export const EMOTIONML_NS = 'http://www.w3.org/2009/10/emotionml';

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

/** Thrown when an EmotionML document cannot be imported as affect records. */
export class EmotionMLImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmotionMLImportError';
  }
}

function setByUri(uri: string | undefined): (typeof DIMENSION_SETS)[DimensionSetName] | undefined {
  if (uri === undefined) return undefined;
  return Object.values(DIMENSION_SETS).find((s) => s.uri === uri);
}

function scale(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v.trim());
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new EmotionMLImportError(`${what}: '${v}' is not a value in [0, 1]`);
  return x;
}

/**
 * Checks EmotionML rules the XSD cannot express for the dimension vocabularies attune knows:
 * every `<dimension>` name belongs to the `dimension-set` in force (the emotion's own, else the
 * document's), and has a `value` or a `<trace>` but not both. Returns the problems found.
 */
export function checkDimensionVocabulary(root: XmlElement): string[] {
  const problems: string[] = [];
  const docSet = root.attrs['dimension-set'];
  root.children.forEach((e, k) => {
    if (e.ns !== EMOTIONML_NS || e.name !== 'emotion') return;
    const uri = e.attrs['dimension-set'] ?? docSet;
    for (const d of e.children) {
      if (d.ns !== EMOTIONML_NS || d.name !== 'dimension') continue;
      const name = d.attrs.name ?? '';
      const set = setByUri(uri);
      if (uri === undefined) problems.push(`emotion ${k + 1}: <dimension name="${name}"> without a dimension-set`);
      else if (!set) problems.push(`emotion ${k + 1}: unknown dimension-set ${uri}`);
      else if (!(set.names as readonly string[]).includes(name)) problems.push(`emotion ${k + 1}: '${name}' is not in ${uri}`);
      const hasTrace = d.children.some((c) => c.name === 'trace');
      if ((d.attrs.value !== undefined) === hasTrace) problems.push(`emotion ${k + 1}: <dimension name="${name}"> needs a value or a trace, not both`);
    }
  });
  return problems;
}

/**
 * Imports affect records from an EmotionML document. Each `<emotion>` with a valence-like
 * (`valence` / `pleasure`) and an `arousal` dimension becomes one record; others are skipped.
 * Confidence is the dimensions' (their mean if they differ; 1 when none is given, since an
 * annotation without a confidence is asserted as is). Throws on malformed XML or a vocabulary
 * violation.
 */
export function importEmotionML(xml: string): EmotionRecord[] {
  const root = parseXml(xml);
  if (root.ns !== EMOTIONML_NS || root.name !== 'emotionml') throw new EmotionMLImportError('root element is not EmotionML <emotionml>');
  if (root.attrs.version !== '1.0') throw new EmotionMLImportError('EmotionML version must be 1.0');
  const problems = checkDimensionVocabulary(root);
  if (problems.length > 0) throw new EmotionMLImportError(problems.join('; '));
  const out: EmotionRecord[] = [];
  for (const e of root.children) {
    if (e.ns !== EMOTIONML_NS || e.name !== 'emotion') continue;
    const set = setByUri(e.attrs['dimension-set'] ?? root.attrs['dimension-set']);
    if (!set) continue;
    const dims = new Map(e.children.filter((c) => c.ns === EMOTIONML_NS && c.name === 'dimension').map((d) => [d.attrs.name ?? '', d]));
    const vd = dims.get(set.valence);
    const ad = dims.get(set.arousal);
    const vs = scale(vd?.attrs.value, `${set.valence} value`);
    const as = scale(ad?.attrs.value, 'arousal value');
    if (vs === undefined || as === undefined) continue;
    const confs = [vd?.attrs.confidence, ad?.attrs.confidence].map((c, k) => scale(c, `confidence ${k}`)).filter((c): c is number => c !== undefined);
    let confidence = confs.length === 0 ? 1 : confs.reduce((s, c) => s + c, 0) / confs.length;
    let valence = fromScale(vs);
    let arousal = fromScale(as);
    let at: number | undefined;
    const start = e.attrs.start;
    if (start !== undefined) {
      if (!/^\s*\+?\d+\s*$/.test(start)) throw new EmotionMLImportError(`start '${start}' is not a non-negative integer`);
      at = Number(start);
    }
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
    if (confs.length === 2 && confs[0] === confs[1]) confidence = confs[0] as number;
    const modality = (e.attrs['expressed-through'] ?? '').trim().split(/\s+/)[0] ?? '';
    const source = SOURCE_OF[modality];
    const rec: { -readonly [K in keyof EmotionRecord]: EmotionRecord[K] } = { valence, arousal, confidence };
    if (source !== undefined) rec.source = source;
    if (at !== undefined) rec.at = at;
    if (e.attrs.id !== undefined) rec.id = e.attrs.id;
    out.push(rec);
  }
  return out;
}

/** Exports full affect records (all fields present). */
export function exportAffects(records: readonly Affect[], opts: ExportOptions = {}): string {
  return exportEmotionML(records, opts);
}

/** Imports records that carry a source and a time as full affect records; throws otherwise. */
export function importAffects(xml: string): Affect[] {
  return importEmotionML(xml).map((r, k) => {
    if (r.source === undefined || r.at === undefined) throw new EmotionMLImportError(`emotion ${k + 1}: no source (expressed-through) or time (start)`);
    return { valence: r.valence, arousal: r.arousal, confidence: r.confidence, source: r.source, at: r.at };
  });
}
