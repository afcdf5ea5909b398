/**
 * Full EmotionML 1.0 validation: well-formedness (saxes, `parseXml.ts`), the W3C XML Schema
 * (assertion 100, decided by libxml2 compiled to WebAssembly by `xmllint-wasm`, so no native tool
 * is needed) and every other machine-checkable assertion (`checkEmotionML.ts`).
 *
 * The schema files are bundled in `w3c/` (with the W3C vocabularies document), not read from
 * `../shared`, because `attune emotionml validate` runs on a user's clone where there is no
 * `../shared`; they are the W3C's own files, 7 KB, public domain as shipped (see w3c/README.md).
 * Embedded EmotionML (EMMA, SSML, SMIL) is schema-checked fragment by fragment: each outermost
 * EmotionML element is written out on its own and validated against the fragment schema, and its
 * errors are reported at the fragment's position in the host document.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { AssertionId } from './assertions.ts';
import { type CheckOptions, checkEmotionML, type EmotionMLCheck } from './checkEmotionML.ts';
import { escapeXml, parseXml, type XmlElement, XmlError, type XmlPosition } from './parseXml.ts';
import { EMOTIONML_NS } from './vocabulary.ts';

/** Where the bundled W3C schema and vocabularies live. */
export const W3C_DIR = join(import.meta.dirname, 'w3c');

/** One problem: a broken assertion (with its number), a schema error (100) or malformed XML (no number). */
export interface ValidationError extends XmlPosition {
  /** The EmotionML assertion, or undefined for a well-formedness error. */
  readonly assertion?: AssertionId;
  /** `xml` (not well-formed), `schema` (libxml2 against the XSD) or `assertion` (checkEmotionML). */
  readonly by: 'xml' | 'schema' | 'assertion';
  readonly message: string;
}

/** The outcome of {@link validateEmotionML}. */
export interface EmotionMLValidation {
  readonly valid: boolean;
  /** Every problem, in document order (schema errors first on a line). */
  readonly errors: readonly ValidationError[];
  /** The assertion check (absent when the document is not well-formed). */
  readonly check?: EmotionMLCheck;
}

let schemaFiles: { main: string; fragments: string } | undefined;
function schemas(): { main: string; fragments: string } {
  schemaFiles ??= {
    main: readFileSync(join(W3C_DIR, 'emotionml.xsd'), 'utf8'),
    fragments: readFileSync(join(W3C_DIR, 'emotionml-fragments.xsd'), 'utf8'),
  };
  return schemaFiles;
}

/** Writes an element out as a standalone document (namespaces declared where they are used). */
export function serializeElement(root: XmlElement): string {
  const write = (e: XmlElement, parentDefault: string): string => {
    const decls: string[] = [];
    if (e.ns !== parentDefault) decls.push(`xmlns="${escapeXml(e.ns)}"`);
    const prefixes = new Map<string, string>();
    const attrs = e.attributes.map((a) => {
      if (a.ns === '') return `${a.local}="${escapeXml(a.value)}"`;
      if (a.ns === 'http://www.w3.org/XML/1998/namespace') return `xml:${a.local}="${escapeXml(a.value)}"`;
      let p = prefixes.get(a.ns);
      if (p === undefined) {
        p = `ns${prefixes.size}`;
        prefixes.set(a.ns, p);
        decls.push(`xmlns:${p}="${escapeXml(a.ns)}"`);
      }
      return `${p}:${a.local}="${escapeXml(a.value)}"`;
    });
    const open = [e.name, ...decls, ...attrs].join(' ');
    const inner = escapeXml(e.text) + e.children.map((c) => write(c, e.ns)).join('');
    return inner === '' ? `<${open}/>` : `<${open}>${inner}</${e.name}>`;
  };
  return write(root, '');
}

/**
 * libxml2's WebAssembly memory may grow to this many 64 KiB pages (1 GiB). The default, 256 pages,
 * fails on documents from about 5 MB; memory is only taken as the document needs it.
 */
const MAX_MEMORY_PAGES = 16384;

async function schemaErrors(xml: string, fileName: string): Promise<{ message: string; line?: number }[]> {
  const { main, fragments } = schemas();
  let r: Awaited<ReturnType<typeof validateXML>>;
  try {
    r = await validateXML({
      xml: [{ fileName, contents: xml }],
      schema: [{ fileName: 'emotionml.xsd', contents: main }],
      preload: [{ fileName: 'emotionml-fragments.xsd', contents: fragments }],
      maxMemoryPages: MAX_MEMORY_PAGES,
    });
  } catch (e) {
    // libxml2 gave up (e.g. out of memory): the schema could not be checked, so the document is
    // not known to be valid.
    const first = String(e instanceof Error ? e.message : e).split('\n')[0];
    return [{ message: `the schema check could not run (${first}); the document may be too large for it` }];
  }
  const tidy = (m: string): string => m.trim().replace(/^Schemas validity error : /, '');
  return r.errors.map((e) => (e.loc ? { message: tidy(e.message), line: e.loc.lineNumber } : { message: tidy(e.rawMessage) }));
}

/** Outermost EmotionML elements of a host document. */
function fragments(root: XmlElement): XmlElement[] {
  if (root.ns === EMOTIONML_NS) return [root];
  return root.children.flatMap(fragments);
}

/**
 * Validates `xml` as EmotionML 1.0: well-formed, valid against the W3C schema, and true to every
 * machine-checkable assertion. With `embedded`, validates the EmotionML inside an EMMA, SSML or
 * SMIL document.
 */
export async function validateEmotionML(xml: string, opts: CheckOptions = {}): Promise<EmotionMLValidation> {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlError) return { valid: false, errors: [{ by: 'xml', message: `not well-formed XML: ${e.reason}`, line: e.line, column: e.column }] };
    throw e;
  }
  const errors: ValidationError[] = [];
  const standalone = !opts.embedded || root.ns === EMOTIONML_NS;
  if (standalone) {
    for (const s of await schemaErrors(xml, 'doc.emotionml')) errors.push({ assertion: 100, by: 'schema', message: s.message, line: s.line ?? 1, column: 1 });
  } else {
    // The fragment schema declares emotion, vocabulary and the other elements globally; an
    // <emotionml> fragment is validated against the main schema (which includes it).
    for (const f of fragments(root)) {
      for (const s of await schemaErrors(serializeElement(f), 'fragment.emotionml')) errors.push({ assertion: 100, by: 'schema', message: s.message, line: f.line, column: f.column });
    }
  }
  const check = checkEmotionML(root, opts);
  for (const v of check.violations) errors.push({ assertion: v.assertion, by: 'assertion', message: v.message, line: v.line, column: v.column });
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  return { valid: errors.length === 0, errors, check };
}

/** `line:column: [EmotionML 212] message` — how the CLI and import errors print a problem. */
export function formatValidationError(e: ValidationError, file?: string): string {
  const where = `${file === undefined ? '' : `${file}:`}${e.line}:${e.column}`;
  const what = e.assertion === undefined ? 'XML' : e.by === 'schema' ? 'EmotionML 100, schema' : `EmotionML ${e.assertion}`;
  return `${where}: [${what}] ${e.message}`;
}
