/**
 * Validates an EmotionML document against the EmotionML 1.0 XML Schema with libxml2 (compiled
 * to WebAssembly by `xmllint-wasm`, so no native tool is needed), plus attune's vocabulary
 * check for the rules the schema cannot express. Used by tests; the schema files are the ones in
 * `../shared/conformance/emotionml/` (CC0, from the W3C EmotionML 1.0 Recommendation).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { checkDimensionVocabulary } from './emotionml.ts';
import { parseXml } from './parseXml.ts';

/** Where the schema, its fragments and the W3C vocabulary document live. */
export const CONFORMANCE_DIR = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'conformance', 'emotionml');

/** The outcome: schema errors (libxml2's messages) and vocabulary problems. */
export interface EmotionMLValidation {
  readonly valid: boolean;
  readonly errors: readonly string[];
}

/** Validates `xml` against `emotionml.xsd` in `dir`, then checks dimension names against their set. */
export async function validateEmotionML(xml: string, dir: string = CONFORMANCE_DIR): Promise<EmotionMLValidation> {
  const r = await validateXML({
    xml: [{ fileName: 'doc.emotionml', contents: xml }],
    schema: [{ fileName: 'emotionml.xsd', contents: readFileSync(join(dir, 'emotionml.xsd'), 'utf8') }],
    preload: [{ fileName: 'emotionml-fragments.xsd', contents: readFileSync(join(dir, 'emotionml-fragments.xsd'), 'utf8') }],
  });
  const errors = r.errors.map((e) => e.rawMessage);
  if (r.valid) errors.push(...checkDimensionVocabulary(parseXml(xml)));
  return { valid: errors.length === 0, errors };
}
