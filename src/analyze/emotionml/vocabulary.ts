/**
 * Resolving EmotionML vocabulary references (`category-set`, `dimension-set`, `appraisal-set`,
 * `action-tendency-set`). A reference is a URI whose fragment is the `id` of a `<vocabulary>`
 * element (EmotionML 1.0 §3.1): `#my-dims` names one in the same document,
 * `http://www.w3.org/TR/emotion-voc/xml#pad-dimensions` one of the W3C vocabularies, and
 * anything else one in another document, which only a caller-supplied loader can reach (the CLI
 * reads local files; nothing is fetched from the network).
 */
import type { XmlElement } from './parseXml.ts';
import { W3C_VOCABULARIES, W3C_VOCABULARY_DOCUMENT } from './w3cVocabularies.ts';

/** The EmotionML namespace. */
export const EMOTIONML_NS = 'http://www.w3.org/2009/10/emotionml';

/** The four kinds of vocabulary, as `<vocabulary type>` spells them. */
export const VOCABULARY_TYPES = ['category', 'dimension', 'appraisal', 'action-tendency'] as const;

/** A vocabulary type. */
export type VocabularyType = (typeof VOCABULARY_TYPES)[number];

/** A resolved vocabulary. */
export interface Vocabulary {
  readonly id: string;
  readonly type: VocabularyType;
  readonly items: ReadonlySet<string>;
  /** Where it came from: `w3c`, `document` (this one) or the document URI it was loaded from. */
  readonly from: string;
}

/** Loads another document that holds vocabularies (e.g. a local file); `undefined` if it cannot. */
export type VocabularyDocumentLoader = (uri: string) => XmlElement | undefined;

/** The outcome of resolving a reference: a vocabulary, or why there is none. */
export type Resolution = { readonly ok: true; readonly vocabulary: Vocabulary } | { readonly ok: false; readonly reason: string };

/** XSD whitespace collapse (anyURI, token, NMTOKEN … all collapse). */
export function collapse(s: string): string {
  return s.replace(/[\t\n\r ]+/g, ' ').replace(/^ | $/g, '');
}

/** The `<vocabulary>` elements under `root` (EmotionML namespace, at any depth), by `id`. */
export function vocabulariesIn(root: XmlElement, from: string): Map<string, Vocabulary> {
  const out = new Map<string, Vocabulary>();
  const walk = (e: XmlElement): void => {
    if (e.ns === EMOTIONML_NS && e.name === 'vocabulary') {
      const id = collapse(e.attrs.id ?? '');
      const type = collapse(e.attrs.type ?? '') as VocabularyType;
      if (id !== '' && (VOCABULARY_TYPES as readonly string[]).includes(type) && !out.has(id)) {
        const items = e.children.filter((c) => c.ns === EMOTIONML_NS && c.name === 'item').map((c) => collapse(c.attrs.name ?? ''));
        out.set(id, { id, type, items: new Set(items), from });
      }
      return;
    }
    for (const c of e.children) walk(c);
  };
  walk(root);
  return out;
}

const W3C_BASES = new Set([W3C_VOCABULARY_DOCUMENT, W3C_VOCABULARY_DOCUMENT.replace(/^http:/, 'https:')]);

const w3cCache = new Map<string, Vocabulary>();

/** The W3C vocabulary with this id, if any. */
export function w3cVocabulary(id: string): Vocabulary | undefined {
  const cached = w3cCache.get(id);
  if (cached) return cached;
  const v = Object.hasOwn(W3C_VOCABULARIES, id) ? W3C_VOCABULARIES[id] : undefined;
  if (!v) return undefined;
  const vocabulary: Vocabulary = { id, type: v.type, items: new Set(v.items), from: 'w3c' };
  w3cCache.set(id, vocabulary);
  return vocabulary;
}

/**
 * A resolver for one document: same-document references against its own `<vocabulary>`
 * elements, the W3C vocabularies from the bundled table (`http:` or `https:`), anything else
 * through `load` (each document loaded once).
 */
export function vocabularyResolver(root: XmlElement, load?: VocabularyDocumentLoader): (uri: string) => Resolution {
  const local = vocabulariesIn(root, 'document');
  const loaded = new Map<string, Map<string, Vocabulary> | undefined>();
  return (raw) => {
    const uri = collapse(raw);
    const hash = uri.lastIndexOf('#');
    if (hash < 0 || hash === uri.length - 1) return { ok: false, reason: `'${uri}' names no <vocabulary> (it needs a #id fragment)` };
    const base = uri.slice(0, hash);
    const id = uri.slice(hash + 1);
    let found: Vocabulary | undefined;
    if (base === '') {
      found = local.get(id);
      if (!found) return { ok: false, reason: `this document has no <vocabulary id="${id}">` };
    } else if (W3C_BASES.has(base)) {
      found = w3cVocabulary(id);
      if (!found) return { ok: false, reason: `the W3C vocabularies have no '${id}'` };
    } else {
      if (!loaded.has(base)) {
        const doc = load?.(base);
        loaded.set(base, doc && vocabulariesIn(doc, base));
      }
      const vocabs = loaded.get(base);
      if (!vocabs) return { ok: false, reason: `cannot resolve '${base}' (only this document, the W3C vocabularies and local files are read)` };
      found = vocabs.get(id);
      if (!found) return { ok: false, reason: `${base} has no <vocabulary id="${id}">` };
    }
    return { ok: true, vocabulary: found };
  };
}
