/**
 * The EmotionML 1.0 test assertions, numbered as the W3C numbers them ("EmotionML 1.0:
 * Implementation Report", Multimodal Interaction WG, for the Recommendation of 22 May 2014; the
 * same numbers the implementation reports and the W3C-linked checkers use). Every violation the
 * checker reports carries one of these numbers.
 *
 * `kind` says how an assertion is handled:
 * - `must`: a requirement; `checkEmotionML.ts` has a check for it (`report(<number>`, or the
 *   per-vocabulary-type table `NUM`), except 416, which every attribute value satisfies.
 * - `may`: a permission. Nothing can violate it; the checker honours it by accepting what it
 *   allows (the tests feed such documents through and expect no violation).
 * - `schema`: assertion 100, "validates against the XML schema": libxml2 (xmllint-wasm) with the
 *   W3C schema in `w3c/` decides it in `validateEmotionML`; `checkEmotionML` reports the schema's
 *   structural rules that no numbered assertion covers (element order, unknown elements and
 *   attributes, text in element-only content, ID uniqueness) under 100 as well.
 *
 * Not machine-checkable, or only in part (said in `note`): 114/117/120/123/161/164/167/170 for a
 * vocabulary URI that is neither this document, the W3C vocabularies nor a local file (it cannot
 * be fetched here, so it is reported as unresolvable, never assumed fine); 417 (only the syntax of
 * a MIME type can be checked, not that IANA registered it); 412 (a permission about media
 * fragments, whose meaning is up to the referenced medium).
 */

/** How an assertion is handled (see the module comment). */
export type AssertionKind = 'must' | 'may' | 'schema';

/** One assertion: its section in the Recommendation and its text (abridged). */
export interface Assertion {
  readonly section: string;
  readonly kind: AssertionKind;
  readonly text: string;
  readonly note?: string;
}

const must = (section: string, text: string, note?: string): Assertion => (note === undefined ? { section, kind: 'must', text } : { section, kind: 'must', text, note });
const may = (section: string, text: string): Assertion => ({ section, kind: 'may', text });
const setRef = (where: string, attr: string, type: string): Assertion =>
  must(
    where === 'emotionml' ? '2.1.1' : '2.1.2',
    `The "${attr}" attribute of <${where}>, if present, MUST refer to the ID of a <vocabulary> element with type="${type}".`,
    'checked for this document, the W3C vocabularies and local files; any other URI is reported as unresolvable',
  );

/** Assertion number → assertion. */
export const ASSERTIONS = {
  100: { section: 'Appendix A (schema)', kind: 'schema', text: 'All EmotionML documents MUST validate against the XML schema.' } as Assertion,
  101: must('2.1.1', 'The root element of standalone EmotionML documents MUST be <emotionml>.'),
  102: must('2.1.1', 'The <emotionml> element MUST define the EmotionML namespace "http://www.w3.org/2009/10/emotionml".'),
  103: may('2.1.1', 'The <emotionml> element MAY contain one or more <emotion> elements.'),
  104: may('2.1.1', 'The <emotionml> element MAY contain one or more <vocabulary> elements.'),
  105: must('2.1.1', 'The <emotionml> element MAY contain a single <info> element (so: at most one).'),
  110: must('2.1.1', 'The root element of a standalone EmotionML document MUST have an attribute "version".'),
  111: must('2.1.1', 'The "version" attribute of <emotionml> MUST have the value "1.0".'),
  112: may('2.1.1', 'The <emotionml> element MAY contain an attribute "category-set".'),
  113: must('2.1.1', 'The "category-set" attribute of <emotionml>, if present, MUST be of type xsd:anyURI.'),
  114: setRef('emotionml', 'category-set', 'category'),
  115: may('2.1.1', 'The <emotionml> element MAY contain an attribute "dimension-set".'),
  116: must('2.1.1', 'The "dimension-set" attribute of <emotionml>, if present, MUST be of type xsd:anyURI.'),
  117: setRef('emotionml', 'dimension-set', 'dimension'),
  118: may('2.1.1', 'The <emotionml> element MAY contain an attribute "appraisal-set".'),
  119: must('2.1.1', 'The "appraisal-set" attribute of <emotionml>, if present, MUST be of type xsd:anyURI.'),
  120: setRef('emotionml', 'appraisal-set', 'appraisal'),
  121: may('2.1.1', 'The <emotionml> element MAY contain an attribute "action-tendency-set".'),
  122: must('2.1.1', 'The "action-tendency-set" attribute of <emotionml>, if present, MUST be of type xsd:anyURI.'),
  123: setRef('emotionml', 'action-tendency-set', 'action-tendency'),
  124: may('2.1.1', 'The <emotionml> element MAY contain arbitrary plain text.'),
  150: may('2.1.2', 'The <emotion> element MAY contain one or more <category> elements.'),
  151: may('2.1.2', 'The <emotion> element MAY contain one or more <dimension> elements.'),
  152: may('2.1.2', 'The <emotion> element MAY contain one or more <appraisal> elements.'),
  153: may('2.1.2', 'The <emotion> element MAY contain one or more <action-tendency> elements.'),
  154: may('2.1.2', 'The <emotion> element MAY contain one or more <reference> elements.'),
  155: must('2.1.2', 'The <emotion> element MAY contain a single <info> element (so: at most one).'),
  156: must('2.1.2', 'The <emotion> element MUST contain at least one <category>, <dimension>, <appraisal> or <action-tendency> element.'),
  157: may('2.1.2', 'The allowed child elements of <emotion> MAY occur in any order.'),
  158: may('2.1.2', 'The allowed child elements of <emotion> MAY occur in any combination.'),
  159: may('2.1.2', 'The <emotion> element MAY contain an attribute "category-set".'),
  160: must('2.1.2', 'The "category-set" attribute of <emotion>, if present, MUST be of type xsd:anyURI.'),
  161: setRef('emotion', 'category-set', 'category'),
  162: may('2.1.2', 'The <emotion> element MAY contain an attribute "dimension-set".'),
  163: must('2.1.2', 'The "dimension-set" attribute of <emotion>, if present, MUST be of type xsd:anyURI.'),
  164: setRef('emotion', 'dimension-set', 'dimension'),
  165: may('2.1.2', 'The <emotion> element MAY contain an attribute "appraisal-set".'),
  166: must('2.1.2', 'The "appraisal-set" attribute of <emotion>, if present, MUST be of type xsd:anyURI.'),
  167: setRef('emotion', 'appraisal-set', 'appraisal'),
  168: may('2.1.2', 'The <emotion> element MAY contain an attribute "action-tendency-set".'),
  169: must('2.1.2', 'The "action-tendency-set" attribute of <emotion>, if present, MUST be of type xsd:anyURI.'),
  170: setRef('emotion', 'action-tendency-set', 'action-tendency'),
  171: may('2.1.2', 'The <emotion> element MAY have an attribute "version".'),
  172: must('2.1.2', 'The "version" attribute of <emotion>, if present, MUST have the value "1.0".'),
  173: may('2.1.2', 'The <emotion> element MAY contain an attribute "id".'),
  174: must('2.1.2', 'The "id" attribute of <emotion>, if present, MUST be of type xsd:ID.'),
  175: may('2.1.2', 'The <emotion> element MAY have an attribute "start".'),
  176: may('2.1.2', 'The <emotion> element MAY have an attribute "end".'),
  177: may('2.1.2', 'The <emotion> element MAY have an attribute "duration".'),
  178: may('2.1.2', 'The <emotion> element MAY have an attribute "time-ref-uri".'),
  179: may('2.1.2', 'The <emotion> element MAY have an attribute "time-ref-anchor-point".'),
  180: may('2.1.2', 'The <emotion> element MAY have an attribute "offset-to-start".'),
  181: may('2.1.2', 'The <emotion> element MAY have an attribute "expressed-through".'),
  182: may('2.1.2', 'The <emotion> element MAY contain arbitrary plain text.'),
  210: must('2.2.1', 'If <category> is used, a category vocabulary MUST be declared with "category-set" on the enclosing <emotion> or on <emotionml>.'),
  211: must('2.2.1', 'A <category> element MUST contain a "name" attribute.'),
  212: must('2.2.1', 'The "name" of a <category> MUST be in the declared category vocabulary (the <emotion>\'s "category-set" wins over <emotionml>\'s).'),
  213: must('2.2.1', 'A category with a given name MUST NOT appear twice in one <emotion>.'),
  214: may('2.2.1', 'A <category> MAY contain a "value" attribute.'),
  215: may('2.2.1', 'A <category> MAY contain a <trace> element.'),
  216: must('2.2.1', 'A <category> MUST NOT contain both a "value" attribute and a <trace> element.'),
  217: may('2.2.1', 'A <category> element MAY contain a "confidence" attribute.'),
  220: must('2.2.2', 'If <dimension> is used, a dimension vocabulary MUST be declared with "dimension-set" on the enclosing <emotion> or on <emotionml>.'),
  221: must('2.2.2', 'A <dimension> element MUST contain a "name" attribute.'),
  222: must('2.2.2', 'The "name" of a <dimension> MUST be in the declared dimension vocabulary (the <emotion>\'s "dimension-set" wins over <emotionml>\'s).'),
  223: must('2.2.2', 'A dimension with a given name MUST NOT appear twice in one <emotion>.'),
  224: must('2.2.2', 'A <dimension> MUST contain either a "value" attribute or a <trace> element.'),
  225: may('2.2.2', 'A <dimension> element MAY contain a "confidence" attribute.'),
  230: must('2.2.3', 'If <appraisal> is used, an appraisal vocabulary MUST be declared with "appraisal-set" on the enclosing <emotion> or on <emotionml>.'),
  231: must('2.2.3', 'An <appraisal> element MUST contain the "name" attribute.'),
  232: must('2.2.3', 'The "name" of an <appraisal> MUST be in the declared appraisal vocabulary (the <emotion>\'s "appraisal-set" wins).'),
  233: must('2.2.3', 'An appraisal with a given name MUST NOT appear twice in one <emotion>.'),
  234: may('2.2.3', 'An <appraisal> element MAY contain a "value" attribute.'),
  235: may('2.2.3', 'An <appraisal> element MAY contain a <trace> element.'),
  236: must('2.2.3', 'An <appraisal> element MUST NOT contain both a "value" attribute and a <trace> element.'),
  237: may('2.2.3', 'An <appraisal> element MAY contain a "confidence" attribute.'),
  240: must('2.2.4', 'If <action-tendency> is used, an action tendency vocabulary MUST be declared with "action-tendency-set" on the enclosing <emotion> or on <emotionml>.'),
  241: must('2.2.4', 'An <action-tendency> element MUST contain the "name" attribute.'),
  242: must('2.2.4', 'The "name" of an <action-tendency> MUST be in the declared action tendency vocabulary (the <emotion>\'s "action-tendency-set" wins).'),
  243: must('2.2.4', 'An action tendency with a given name MUST NOT appear twice in one <emotion>.'),
  244: may('2.2.4', 'An <action-tendency> element MAY contain a "value" attribute.'),
  245: may('2.2.4', 'An <action-tendency> element MAY contain a <trace> element.'),
  246: must('2.2.4', 'An <action-tendency> element MUST NOT contain both a "value" attribute and a <trace> element.'),
  247: may('2.2.4', 'An <action-tendency> element MAY contain a "confidence" attribute.'),
  300: must('2.3.1', 'The value of the "confidence" attribute MUST be a floating point number in the closed interval [0, 1].'),
  301: must('2.3.2', 'The attribute "expressed-through" of <emotion>, if present, MUST be of type xsd:nmtokens.'),
  302: may('2.3.3', 'The <info> element MAY contain any elements with a namespace different from the EmotionML namespace.'),
  303: may('2.3.3', 'The <info> element MAY contain arbitrary plain text.'),
  304: must('2.3.3', 'The <info> element MUST NOT contain any elements in the EmotionML namespace.'),
  305: may('2.3.3', 'The <info> element MAY contain an attribute "id".'),
  306: must('2.3.3', 'The "id" attribute of the <info> element, if present, MUST be of type xsd:ID.'),
  410: must('2.4.1', 'The <reference> element MUST contain a "uri" attribute.'),
  411: must('2.4.1', 'The "uri" attribute of <reference> MUST be of type xsd:anyURI.'),
  412: may('2.4.1', 'The URI in the "uri" attribute of a <reference> MAY be extended by a media fragment.'),
  413: may('2.4.1', 'The <reference> element MAY contain a "role" attribute.'),
  414: must('2.4.1', 'The "role" of <reference>, if present, MUST be one of "expressedBy", "experiencedBy", "triggeredBy", "targetedAt".'),
  415: may('2.4.1', 'The <reference> element MAY contain a "media-type" attribute.'),
  416: must('2.4.1', 'The "media-type" of <reference>, if present, MUST be of type xsd:string.'),
  417: must('2.4.1', 'The "media-type" of <reference>, if present, MUST be a valid MIME type.', 'syntax only (RFC 6838 type/subtype and parameters); registration with IANA is not checked'),
  420: must('2.4.2', 'The "start" attribute of <emotion>, if present, MUST be of type xsd:nonNegativeInteger.'),
  421: must('2.4.2', 'The "end" attribute of <emotion>, if present, MUST be of type xsd:nonNegativeInteger.'),
  422: must('2.4.2', 'The "duration" attribute of <emotion>, if present, MUST be of type xsd:nonNegativeInteger.'),
  423: must('2.4.2', 'The "time-ref-uri" attribute of <emotion>, if present, MUST be of type xsd:anyURI.'),
  424: must('2.4.2', 'The "time-ref-anchor-point" attribute of <emotion>, if present, MUST be either "start" or "end".'),
  425: must('2.4.2', 'The "offset-to-start" attribute of <emotion>, if present, MUST be of type xsd:integer.'),
  500: must('2.5.1', 'The value of a "value" attribute, if present, MUST be a floating point value from the closed interval [0, 1].'),
  501: must('2.5.2', 'The <trace> element MUST have a "freq" attribute.'),
  502: must('2.5.2', 'The "freq" of <trace> MUST be a positive floating point number followed by optional whitespace followed by "Hz".'),
  503: must('2.5.2', 'The <trace> element MUST have a "samples" attribute.'),
  504: must('2.5.2', 'The "samples" of <trace> MUST be a space-separated list of floating point values from the closed interval [0, 1].'),
  600: must('3.1.1', 'A <vocabulary> element MUST contain one or more <item> elements.'),
  601: must('3.1.1', 'A <vocabulary> element MAY contain a single <info> element (so: at most one).'),
  602: must('3.1.1', 'A <vocabulary> element MUST contain a "type" attribute.'),
  603: must('3.1.1', 'The "type" of <vocabulary> MUST be one of "category", "dimension", "action-tendency" or "appraisal".'),
  604: must('3.1.1', 'A <vocabulary> element MUST contain an "id" attribute.'),
  605: must('3.1.1', 'The "id" of the <vocabulary> element MUST be of type xsd:ID.'),
  606: must('3.1.2', 'An <item> element MAY contain a single <info> element (so: at most one).'),
  607: must('3.1.2', 'An <item> element MUST contain a "name" attribute.'),
  608: must('3.1.2', 'An <item> MUST NOT have the same name as any other <item> within the same <vocabulary>.'),
  700: must('4.1', 'All EmotionML elements MUST use the EmotionML namespace "http://www.w3.org/2009/10/emotionml".'),
} as const satisfies Record<number, Assertion>;

/** An assertion number. */
export type AssertionId = keyof typeof ASSERTIONS;
