/**
 * The EmotionML 1.0 assertions as code: every requirement of the W3C test-assertion list
 * (`assertions.ts`) that a program can decide, reported with its number and the line:column of
 * the element or attribute at fault. Pure: no I/O (other documents' vocabularies come through an
 * optional loader), so import, the CLI and the browser share it.
 *
 * It also enforces the schema's structural rules that no numbered assertion states (child order,
 * unknown elements and attributes, text in element-only content, ID uniqueness), as assertion
 * 100, so a document it accepts is one libxml2 accepts against the W3C schema too;
 * `emotionml.test.ts` checks the two agree on a corpus of valid and broken documents.
 *
 * EmotionML used as a plug-in (§1.3: inside EMMA, SSML or SMIL) is checked when asked
 * (`embedded: true`): every outermost EmotionML element of the host document — an `<emotion>`,
 * a `<vocabulary>` or a whole `<emotionml>` — is checked as the fragment schema and the
 * assertions require; 101/110/111 then apply only to embedded `<emotionml>` elements.
 *
 * Sources: W3C Recommendation "Emotion Markup Language (EmotionML) 1.0", 22 May 2014 (§2–§4 and
 * its schema, `w3c/emotionml*.xsd`); "EmotionML 1.0: Implementation Report" (assertion list);
 * W3C Note "Vocabularies for EmotionML", 1 April 2014.
 */
import type { AssertionId } from './assertions.ts';
import type { XmlElement, XmlPosition } from './parseXml.ts';
import { EMOTIONML_NS, VOCABULARY_TYPES, type Vocabulary, type VocabularyDocumentLoader, type VocabularyType, collapse, vocabularyResolver } from './vocabulary.ts';
import { isAnyUri, isInteger, isMimeType, isNCName, isNmtoken, isNmtokens, isNonNegativeInteger, parseScaleValue } from './xsdTypes.ts';

/** One broken assertion, where it is broken. */
export interface Violation extends XmlPosition {
  readonly assertion: AssertionId;
  readonly message: string;
}

/** Host languages EmotionML is embedded in, by the namespace of their root element. */
export const EMOTIONML_HOSTS = {
  'http://www.w3.org/2003/04/emma': 'EMMA',
  'http://www.w3.org/2001/10/synthesis': 'SSML',
  'http://www.w3.org/ns/SMIL': 'SMIL',
  'http://www.w3.org/2001/SMIL20/Language': 'SMIL',
} as const satisfies Record<string, string>;

/** Options for {@link checkEmotionML}. */
export interface CheckOptions {
  /** Check EmotionML embedded in an EMMA, SSML or SMIL document (default: a standalone document). */
  readonly embedded?: boolean;
  /** Loads another document for a vocabulary reference that is neither local nor W3C. */
  readonly loadVocabularyDocument?: VocabularyDocumentLoader;
}

/** The vocabulary set URIs in force for an emotion, by vocabulary type. */
export type VocabularySets = Readonly<Partial<Record<VocabularyType, string>>>;

/** An `<emotion>` found, with the sets in force for it and their resolved vocabularies. */
export interface FoundEmotion {
  readonly element: XmlElement;
  readonly vocabularies: Readonly<Partial<Record<VocabularyType, Vocabulary>>>;
}

/** What the check found. */
export interface EmotionMLCheck {
  /** `EmotionML` for a standalone document, else the host language (`unknown`: none we embed in). */
  readonly host: 'EmotionML' | 'unknown' | (typeof EMOTIONML_HOSTS)[keyof typeof EMOTIONML_HOSTS];
  readonly violations: readonly Violation[];
  /** Every `<emotion>`, in document order. */
  readonly emotions: readonly FoundEmotion[];
}

const SET_ATTR = { category: 'category-set', dimension: 'dimension-set', appraisal: 'appraisal-set', 'action-tendency': 'action-tendency-set' } as const satisfies Record<VocabularyType, string>;

/** Per vocabulary type: assertion numbers on <emotionml> (anyURI, reference), on <emotion>, and on the descriptions. */
const NUM = {
  category: { rootUri: 113, rootRef: 114, uri: 160, ref: 161, declared: 210, name: 211, inVocab: 212, unique: 213, valueTrace: 216 },
  dimension: { rootUri: 116, rootRef: 117, uri: 163, ref: 164, declared: 220, name: 221, inVocab: 222, unique: 223, valueTrace: 224 },
  appraisal: { rootUri: 119, rootRef: 120, uri: 166, ref: 167, declared: 230, name: 231, inVocab: 232, unique: 233, valueTrace: 236 },
  'action-tendency': { rootUri: 122, rootRef: 123, uri: 169, ref: 170, declared: 240, name: 241, inVocab: 242, unique: 243, valueTrace: 246 },
} as const satisfies Record<VocabularyType, Record<string, AssertionId>>;

const KNOWN = new Set(['emotionml', 'emotion', 'info', 'vocabulary', 'item', 'category', 'dimension', 'appraisal', 'action-tendency', 'reference', 'trace']);
const ROOT_ATTRS = ['version', ...Object.values(SET_ATTR)];
const EMOTION_ATTRS = [...ROOT_ATTRS, 'id', 'start', 'end', 'duration', 'time-ref-uri', 'time-ref-anchor-point', 'offset-to-start', 'expressed-through'];

const isDescription = (e: XmlElement): e is XmlElement & { name: VocabularyType } => e.ns === EMOTIONML_NS && (VOCABULARY_TYPES as readonly string[]).includes(e.name);

/**
 * Checks a parsed document against the EmotionML 1.0 assertions. Returns every violation found
 * (in document order) and the emotions with their resolved vocabularies.
 */
export function checkEmotionML(root: XmlElement, opts: CheckOptions = {}): EmotionMLCheck {
  const violations: Violation[] = [];
  const emotions: FoundEmotion[] = [];
  const ids = new Set<string>();
  const resolve = vocabularyResolver(root, opts.loadVocabularyDocument);

  const report = (assertion: AssertionId, at: XmlPosition, message: string): void => {
    violations.push({ assertion, message, line: at.line, column: at.column });
  };
  const attrAt = (e: XmlElement, qname: string): XmlPosition => e.attributes.find((a) => a.qname === qname) ?? e;

  /** Schema: no attributes but these (unprefixed); foreign-namespace attributes are not declared either. */
  const onlyAttributes = (e: XmlElement, allowed: readonly string[]): void => {
    for (const a of e.attributes) {
      if (a.ns !== '' || !allowed.includes(a.local)) report(100, a, `<${e.name}> has no attribute '${a.qname}' in the schema`);
    }
  };
  /** Schema: element-only content has no character data but whitespace. */
  const noText = (e: XmlElement): void => {
    if (e.text.trim() !== '') report(100, e, `<${e.name}> may not contain text`);
  };
  /** A child element where the schema has no place for it: 700 when it is an EmotionML name in another namespace. */
  const misplaced = (parent: XmlElement, c: XmlElement): void => {
    if (c.ns !== EMOTIONML_NS && KNOWN.has(c.name)) report(700, c, `<${c.qname}> is not in the EmotionML namespace (${c.ns === '' ? 'it has none' : c.ns})`);
    else report(100, c, `<${c.qname}> is not allowed in <${parent.name}>`);
  };
  const id = (e: XmlElement, assertion: AssertionId): void => {
    const raw = e.attrs.id;
    if (raw === undefined) return;
    const v = collapse(raw);
    if (!isNCName(v)) report(assertion, attrAt(e, 'id'), `id '${raw}' is not an xsd:ID (an XML name without ':')`);
    else if (ids.has(v)) report(assertion, attrAt(e, 'id'), `id '${v}' is used twice (xsd:ID values are unique in a document)`);
    else ids.add(v);
  };
  const uriAttr = (e: XmlElement, name: string, assertion: AssertionId): string | undefined => {
    const v = e.attrs[name];
    if (v === undefined) return undefined;
    if (!isAnyUri(v)) {
      report(assertion, attrAt(e, name), `${name} '${v}' is not an xsd:anyURI`);
      return undefined;
    }
    return v;
  };
  const setReference = (e: XmlElement, type: VocabularyType, uriNo: AssertionId, refNo: AssertionId): Vocabulary | undefined => {
    const v = uriAttr(e, SET_ATTR[type], uriNo);
    if (v === undefined) return undefined;
    const r = resolve(v);
    if (!r.ok) report(refNo, attrAt(e, SET_ATTR[type]), `${SET_ATTR[type]}: ${r.reason}`);
    else if (r.vocabulary.type !== type) report(refNo, attrAt(e, SET_ATTR[type]), `${SET_ATTR[type]} refers to '${r.vocabulary.id}', a vocabulary of type '${r.vocabulary.type}', not '${type}'`);
    else return r.vocabulary;
    return undefined;
  };

  const checkInfo = (info: XmlElement): void => {
    onlyAttributes(info, ['id']);
    id(info, 306);
    for (const c of info.children) {
      if (c.ns === EMOTIONML_NS) report(304, c, `<info> may not contain EmotionML elements (<${c.name}>)`);
      else if (c.ns === '') report(100, c, `<${c.qname}> in <info> needs a namespace (the schema allows only elements of other namespaces)`);
    }
  };

  const checkTrace = (t: XmlElement): void => {
    onlyAttributes(t, ['freq', 'samples']);
    noText(t);
    for (const c of t.children) misplaced(t, c);
    const freq = t.attrs.freq;
    if (freq === undefined) report(501, t, '<trace> has no freq');
    else {
      // The schema's pattern `\d+(\.\d*)?\s*Hz`, where XSD's \s is XML whitespace only.
      const m = /^([0-9]+(\.[0-9]*)?)[ \t\n\r]*Hz$/.exec(freq);
      if (!m || !(Number(m[1]) > 0)) report(502, attrAt(t, 'freq'), `freq '${freq}' is not a positive number followed by "Hz"`);
    }
    const samples = t.attrs.samples;
    if (samples === undefined) report(503, t, '<trace> has no samples');
    else {
      const list = collapse(samples);
      const bad = list === '' ? [''] : list.split(' ').filter((s) => parseScaleValue(s) === undefined);
      if (bad.length > 0) report(504, attrAt(t, 'samples'), list === '' ? 'samples is empty' : `samples: '${bad[0]}' is not a value in [0, 1]`);
    }
  };

  const checkDescription = (d: XmlElement & { name: VocabularyType }, vocab: Vocabulary | undefined, declared: boolean, seen: Set<string>): void => {
    const n = NUM[d.name];
    onlyAttributes(d, ['name', 'value', 'confidence']);
    noText(d);
    if (!declared) report(n.declared, d, `<${d.name}> is used but no ${SET_ATTR[d.name]} is declared on its <emotion> or on <emotionml>`);
    const raw = d.attrs.name;
    if (raw === undefined) report(n.name, d, `<${d.name}> has no name`);
    else {
      const name = collapse(raw);
      if (vocab && !vocab.items.has(name)) report(n.inVocab, attrAt(d, 'name'), `'${name}' is not in the ${d.name} vocabulary '${vocab.id}'${vocab.from === 'w3c' ? ' (W3C)' : ''}`);
      if (seen.has(name)) report(n.unique, attrAt(d, 'name'), `${d.name} '${name}' appears twice in one <emotion>`);
      seen.add(name);
    }
    const value = d.attrs.value;
    if (value !== undefined && parseScaleValue(value) === undefined) report(500, attrAt(d, 'value'), `value '${value}' is not a number in [0, 1]`);
    const conf = d.attrs.confidence;
    if (conf !== undefined && parseScaleValue(conf) === undefined) report(300, attrAt(d, 'confidence'), `confidence '${conf}' is not a number in [0, 1]`);
    const traces = d.children.filter((c) => c.ns === EMOTIONML_NS && c.name === 'trace');
    for (const c of d.children) if (!(c.ns === EMOTIONML_NS && c.name === 'trace')) misplaced(d, c);
    if (traces.length > 1) report(100, traces[1] as XmlElement, `<${d.name}> has more than one <trace>`);
    for (const t of traces) checkTrace(t);
    if (d.name === 'dimension') {
      if ((value !== undefined) === (traces.length > 0)) report(n.valueTrace, d, value === undefined ? '<dimension> needs a value or a <trace>' : '<dimension> has both a value and a <trace>');
    } else if (value !== undefined && traces.length > 0) report(n.valueTrace, d, `<${d.name}> has both a value and a <trace>`);
  };

  const checkReference = (r: XmlElement): void => {
    onlyAttributes(r, ['uri', 'role', 'media-type']);
    noText(r);
    for (const c of r.children) misplaced(r, c);
    if (r.attrs.uri === undefined) report(410, r, '<reference> has no uri');
    else uriAttr(r, 'uri', 411);
    const role = r.attrs.role;
    if (role !== undefined && !['expressedBy', 'experiencedBy', 'triggeredBy', 'targetedAt'].includes(collapse(role))) {
      report(414, attrAt(r, 'role'), `role '${role}' is not expressedBy, experiencedBy, triggeredBy or targetedAt`);
    }
    const mt = r.attrs['media-type'];
    if (mt !== undefined && !isMimeType(mt)) report(417, attrAt(r, 'media-type'), `media-type '${mt}' is not a MIME type (type/subtype)`);
  };

  const checkEmotion = (e: XmlElement, inherited: VocabularySets): void => {
    onlyAttributes(e, EMOTION_ATTRS);
    const version = e.attrs.version;
    if (version !== undefined && version !== '1.0') report(172, attrAt(e, 'version'), `<emotion> version is '${version}', not '1.0'`);
    id(e, 174);
    const vocabularies: Partial<Record<VocabularyType, Vocabulary>> = {};
    const declared: Partial<Record<VocabularyType, boolean>> = {};
    for (const type of VOCABULARY_TYPES) {
      if (e.attrs[SET_ATTR[type]] !== undefined) {
        declared[type] = true;
        const v = setReference(e, type, NUM[type].uri, NUM[type].ref);
        if (v) vocabularies[type] = v;
      } else if (inherited[type] !== undefined) {
        declared[type] = true;
        const r = resolve(inherited[type] as string);
        if (r.ok && r.vocabulary.type === type) vocabularies[type] = r.vocabulary;
      }
    }
    const ints: readonly [string, AssertionId, (s: string) => boolean, string][] = [
      ['start', 420, isNonNegativeInteger, 'an xsd:nonNegativeInteger'],
      ['end', 421, isNonNegativeInteger, 'an xsd:nonNegativeInteger'],
      ['duration', 422, isNonNegativeInteger, 'an xsd:nonNegativeInteger'],
      ['offset-to-start', 425, isInteger, 'an xsd:integer'],
    ];
    for (const [name, no, ok, what] of ints) {
      const v = e.attrs[name];
      if (v !== undefined && !ok(v)) report(no, attrAt(e, name), `${name} '${v}' is not ${what}`);
    }
    uriAttr(e, 'time-ref-uri', 423);
    const anchor = e.attrs['time-ref-anchor-point'];
    if (anchor !== undefined && !['start', 'end'].includes(collapse(anchor))) report(424, attrAt(e, 'time-ref-anchor-point'), `time-ref-anchor-point '${anchor}' is neither 'start' nor 'end'`);
    const through = e.attrs['expressed-through'];
    if (through !== undefined && !isNmtokens(through)) report(301, attrAt(e, 'expressed-through'), `expressed-through '${through}' is not a list of NMTOKENs`);

    // Content: info?, (category | dimension | appraisal | action-tendency)+, reference*
    let phase = 0; // 0: info allowed, 1: descriptions, 2: references
    let infos = 0;
    let descriptions = 0;
    const seen: Record<VocabularyType, Set<string>> = { category: new Set(), dimension: new Set(), appraisal: new Set(), 'action-tendency': new Set() };
    for (const c of e.children) {
      if (c.ns === EMOTIONML_NS && c.name === 'info') {
        infos++;
        if (infos > 1) report(155, c, '<emotion> has more than one <info>');
        else if (phase > 0) report(100, c, '<info> must come first in <emotion>');
        checkInfo(c);
      } else if (isDescription(c)) {
        if (phase === 2) report(100, c, `<${c.name}> must come before <reference> in <emotion>`);
        phase = Math.max(phase, 1);
        descriptions++;
        checkDescription(c, vocabularies[c.name], declared[c.name] === true, seen[c.name]);
      } else if (c.ns === EMOTIONML_NS && c.name === 'reference') {
        phase = 2;
        checkReference(c);
      } else misplaced(e, c);
    }
    if (descriptions === 0) report(156, e, '<emotion> has no <category>, <dimension>, <appraisal> or <action-tendency>');
    emotions.push({ element: e, vocabularies });
  };

  const checkVocabulary = (v: XmlElement): void => {
    onlyAttributes(v, ['type', 'id']);
    noText(v);
    const type = v.attrs.type;
    if (type === undefined) report(602, v, '<vocabulary> has no type');
    else if (!(VOCABULARY_TYPES as readonly string[]).includes(collapse(type))) report(603, attrAt(v, 'type'), `vocabulary type '${type}' is not category, dimension, appraisal or action-tendency`);
    if (v.attrs.id === undefined) report(604, v, '<vocabulary> has no id');
    else id(v, 605);
    let infos = 0;
    let items = 0;
    const names = new Set<string>();
    for (const c of v.children) {
      if (c.ns === EMOTIONML_NS && c.name === 'info') {
        infos++;
        if (infos > 1) report(601, c, '<vocabulary> has more than one <info>');
        else if (items > 0) report(100, c, '<info> must come first in <vocabulary>');
        checkInfo(c);
      } else if (c.ns === EMOTIONML_NS && c.name === 'item') {
        items++;
        onlyAttributes(c, ['name']);
        noText(c);
        const raw = c.attrs.name;
        if (raw === undefined) report(607, c, '<item> has no name');
        else if (!isNmtoken(raw)) report(100, attrAt(c, 'name'), `item name '${raw}' is not an NMTOKEN (one word: letters, digits, '.', '-', '_', ':')`);
        else if (names.has(collapse(raw))) report(608, attrAt(c, 'name'), `item '${collapse(raw)}' appears twice in vocabulary '${v.attrs.id ?? ''}'`);
        else names.add(collapse(raw));
        let itemInfos = 0;
        for (const ic of c.children) {
          if (ic.ns === EMOTIONML_NS && ic.name === 'info') {
            itemInfos++;
            if (itemInfos > 1) report(606, ic, '<item> has more than one <info>');
            checkInfo(ic);
          } else misplaced(c, ic);
        }
      } else misplaced(v, c);
    }
    if (items === 0) report(600, v, '<vocabulary> has no <item>');
  };

  /** A whole <emotionml> element (the root, or embedded in a host). */
  const checkDocument = (doc: XmlElement): void => {
    onlyAttributes(doc, ROOT_ATTRS);
    const version = doc.attrs.version;
    if (version === undefined) report(110, doc, '<emotionml> has no version attribute');
    else if (version !== '1.0') report(111, attrAt(doc, 'version'), `<emotionml> version is '${version}', not '1.0'`);
    const sets: Partial<Record<VocabularyType, string>> = {};
    for (const type of VOCABULARY_TYPES) {
      if (doc.attrs[SET_ATTR[type]] === undefined) continue;
      sets[type] = doc.attrs[SET_ATTR[type]];
      setReference(doc, type, NUM[type].rootUri, NUM[type].rootRef);
    }
    let infos = 0;
    let others = 0;
    for (const c of doc.children) {
      if (c.ns === EMOTIONML_NS && c.name === 'info') {
        infos++;
        if (infos > 1) report(105, c, '<emotionml> has more than one <info>');
        else if (others > 0) report(100, c, '<info> must come first in <emotionml>');
        checkInfo(c);
      } else if (c.ns === EMOTIONML_NS && c.name === 'emotion') {
        others++;
        checkEmotion(c, sets);
      } else if (c.ns === EMOTIONML_NS && c.name === 'vocabulary') {
        others++;
        checkVocabulary(c);
      } else misplaced(doc, c);
    }
  };

  const isRootEmotionML = root.name === 'emotionml' && root.ns === EMOTIONML_NS;
  if (!opts.embedded || isRootEmotionML) {
    if (root.name !== 'emotionml') report(101, root, `the root element is <${root.qname}>, not <emotionml>`);
    else if (root.ns !== EMOTIONML_NS) report(102, root, `<emotionml> is in ${root.ns === '' ? 'no namespace' : `namespace ${root.ns}`}, not ${EMOTIONML_NS}`);
    else checkDocument(root);
    return { host: 'EmotionML', violations, emotions };
  }

  const host = Object.hasOwn(EMOTIONML_HOSTS, root.ns) ? EMOTIONML_HOSTS[root.ns as keyof typeof EMOTIONML_HOSTS] : undefined;
  if (host === undefined) {
    report(101, root, `<${root.qname}> (${root.ns === '' ? 'no namespace' : root.ns}) is neither <emotionml> nor an EMMA, SSML or SMIL document`);
    return { host: 'unknown', violations, emotions };
  }
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (c.ns !== EMOTIONML_NS) walk(c);
      else if (c.name === 'emotionml') checkDocument(c);
      else if (c.name === 'emotion') checkEmotion(c, {});
      else if (c.name === 'vocabulary') checkVocabulary(c);
      else report(100, c, `<${c.qname}> cannot stand on its own in ${host}: embed an <emotion>, a <vocabulary> or an <emotionml> document`);
    }
  };
  walk(root);
  return { host, violations, emotions };
}

